import type { PressureState } from '@memshed/core';
import type { SchedulerLike, Subscription } from 'rxjs';
import type { ElectronIpcMain, ElectronWebContents } from './electron-environment';
import { RELIEF_CHANNEL, RELIEF_REPLY_CHANNEL, type ReliefRequest } from './relief-channels';

/** What asking the renderers to drop their caches did. */
export interface RendererReliefReport {
  /** Renderers asked (live, not crashed). */
  readonly asked: number;
  /** Renderers that answered in time (those with the preload helper). */
  readonly answered: number;
  /** Bytes their Blink caches shrank by, as they reported. */
  readonly freedBytes: number;
  /** Whether the wait ended on the timeout or the signal with answers missing. */
  readonly incomplete: boolean;
}

/** How to ask. */
export interface RendererReliefOptions {
  /** The state behind the request, passed to the page's `onRelief`. */
  readonly level: PressureState;
  /** How long to wait for answers, in ms: renderers without the preload helper never answer. */
  readonly timeout: number;
  /** Timer of the timeout. */
  readonly scheduler: SchedulerLike;
  /** Stops waiting. */
  readonly signal?: AbortSignal;
}

let nextRequest = 1;

/**
 * Sends every live renderer a relief request on {@link RELIEF_CHANNEL} and gathers the answers of
 * those running {@link exposeCacheRelief} until all answered, the timeout, or the signal. Answers
 * are checked (the request id, a renderer that was asked, sizes that are numbers): a renderer is
 * not trusted beyond its own figure.
 */
export function askRenderersForRelief(
  renderers: readonly ElectronWebContents[],
  ipcMain: ElectronIpcMain,
  options: RendererReliefOptions,
): Promise<RendererReliefReport> {
  const id = nextRequest++;
  const waiting = new Set<number>();
  let freedBytes = 0;
  let answered = 0;

  return new Promise<RendererReliefReport>((resolve) => {
    // Set once the requests are out; finish() may run before (every renderer answered at once).
    let timer: Subscription | undefined = undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      timer?.unsubscribe();
      ipcMain.removeListener(RELIEF_REPLY_CHANNEL, onReply);
      options.signal?.removeEventListener('abort', finish);
      resolve({ asked: asked.length, answered, freedBytes, incomplete: waiting.size > 0 });
    };
    const onReply = (event: { readonly sender: { readonly id: number } }, reply: unknown) => {
      const { id: replyId, before, after } = (reply ?? {}) as Record<string, unknown>;
      if (replyId !== id || !waiting.has(event.sender.id)) return;
      if (!isSize(before) || !isSize(after)) return;
      waiting.delete(event.sender.id);
      answered++;
      freedBytes += Math.max(0, before - after);
      if (waiting.size === 0) finish();
    };

    ipcMain.on(RELIEF_REPLY_CHANNEL, onReply);
    const request: ReliefRequest = { id, level: options.level };
    const asked: ElectronWebContents[] = [];
    for (const renderer of renderers) {
      if (renderer.isDestroyed() || renderer.isCrashed()) continue;
      waiting.add(renderer.id);
      asked.push(renderer);
    }
    for (const renderer of asked) {
      try {
        renderer.send(RELIEF_CHANNEL, request);
      } catch {
        // Destroyed between the check and the send: nothing to wait for.
        waiting.delete(renderer.id);
      }
    }
    if (waiting.size === 0 || options.signal?.aborted) {
      finish();
      return;
    }
    options.signal?.addEventListener('abort', finish, { once: true });
    timer = options.scheduler.schedule(finish, options.timeout);
  });
}

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}
