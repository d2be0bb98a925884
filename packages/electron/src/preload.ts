/**
 * The renderer half of the cache relief, for a preload script: `webFrame.clearCache()` when the main
 * process asks. It imports nothing at run time but the channel names, so it can be bundled into a
 * sandboxed preload (or copied: it is short).
 *
 * @example
 * // preload.ts
 * import { ipcRenderer, webFrame } from 'electron';
 * import { exposeCacheRelief } from '@memshed/electron/preload';
 * exposeCacheRelief({ ipcRenderer, webFrame }, { onRelief: () => window.dispatchEvent(new Event('memshed:relief')) });
 */
import type { ResourceUsage } from 'electron';
import { RELIEF_CHANNEL, RELIEF_REPLY_CHANNEL, type IpcArguments, type ReliefReply } from './relief-channels';

export { RELIEF_CHANNEL, RELIEF_REPLY_CHANNEL } from './relief-channels';
export type { ReliefReply, ReliefRequest } from './relief-channels';

/** The parts of `ipcRenderer` and `webFrame` the relief uses. */
export interface CacheReliefElectron {
  readonly ipcRenderer: {
    on(channel: string, listener: (event: unknown, ...args: IpcArguments) => void): unknown;
    removeListener(channel: string, listener: (...args: IpcArguments) => void): unknown;
    send(channel: string, ...args: unknown[]): void;
  };
  readonly webFrame: {
    clearCache(): void;
    getResourceUsage(): ResourceUsage;
  };
}

/** Options of {@link exposeCacheRelief}. */
export interface CacheReliefOptions {
  /**
   * Called first, with the pressure state, to let the page drop its own caches (decoded images,
   * memoised data). Its errors are ignored: the relief goes on.
   */
  readonly onRelief?: (level: string) => void;
}

/**
 * Answers the main process's relief requests in this renderer: runs `onRelief`, clears Blink's
 * caches with `webFrame.clearCache()`, and reports their size before and after. Returns a function
 * that stops answering.
 */
export function exposeCacheRelief(
  electron: CacheReliefElectron,
  options: CacheReliefOptions = {},
): () => void {
  const { ipcRenderer, webFrame } = electron;
  const listener = (_event: unknown, request: unknown) => {
    const { id, level } = (request ?? {}) as { id?: unknown; level?: unknown };
    if (typeof id !== 'number') return;
    try {
      options.onRelief?.(typeof level === 'string' ? level : 'unknown');
    } catch {
      // The page's own hook failing must not stop Blink's caches from being cleared.
    }
    const before = cacheBytes(webFrame.getResourceUsage());
    webFrame.clearCache();
    const reply: ReliefReply = { id, before, after: cacheBytes(webFrame.getResourceUsage()) };
    ipcRenderer.send(RELIEF_REPLY_CHANNEL, reply);
  };
  ipcRenderer.on(RELIEF_CHANNEL, listener);
  return () => {
    ipcRenderer.removeListener(RELIEF_CHANNEL, listener);
  };
}

/** The bytes of every resource cache in a `webFrame.getResourceUsage()` result. */
export function cacheBytes(usage: ResourceUsage): number {
  let total = 0;
  for (const details of Object.values(usage)) {
    if (details && typeof details.size === 'number' && details.size > 0) total += details.size;
  }
  return total;
}
