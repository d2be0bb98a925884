import { MemshedError, formatBytes, type ActionContext, type ActionResult } from '@memshed/core';
import { z } from '@memshed/options';
import { ElectronAction } from './electron-action';
import type { ElectronSession } from './electron-environment';
import { durationSchema } from './electron-options';
import { askRenderersForRelief, type RendererReliefReport } from './renderer-relief';

/**
 * Options of the `electron-cache` action (`with:` in config).
 *
 * @example
 * { sessions: true, renderers: true, rendererTimeout: '1s' }
 */
export const electronCacheOptionsSchema = z.strictObject({
  /** Clear the HTTP cache (`session.clearCache()`) of the default session and of every session in use. */
  sessions: z.boolean().default(true),
  /** Ask every renderer running the preload helper to `webFrame.clearCache()`. */
  renderers: z.boolean().default(true),
  /** How long to wait for the renderers' answers. Renderers without the helper never answer. Default 1s. */
  rendererTimeout: durationSchema.default(1000),
});

/** Validated options of the `electron-cache` action. */
export type ElectronCacheOptions = z.output<typeof electronCacheOptionsSchema>;
/** Options of the `electron-cache` action as written. */
export type ElectronCacheOptionsInput = z.input<typeof electronCacheOptionsSchema>;

/**
 * Drops Electron's caches: each session's HTTP cache (in memory for in-memory partitions, an
 * in-memory index and open entries for persistent ones), and, through the preload helper, Blink's
 * resource caches in every renderer (decoded images, scripts, style sheets, fonts). Everything it
 * drops is rebuilt on demand, so it is safe at any level; the freed bytes are the renderers' own
 * figures (estimated).
 */
export class ElectronCacheAction extends ElectronAction<ElectronCacheOptions> {
  readonly id = 'electron-cache';

  async run(context: ActionContext): Promise<ActionResult> {
    const sessions = this.options.sessions ? this.sessions() : [];
    const renderers = this.options.renderers ? this.renderers() : [];
    if (context.dryRun) {
      return {
        summary: `would clear the HTTP cache of ${plural(sessions.length, 'session')} and ask ${plural(renderers.length, 'renderer')} to drop their caches`,
        details: { sessions: sessions.length, renderers: renderers.length },
      };
    }

    // The renderers work in their own processes: ask them first, clear the sessions meanwhile.
    const relief: Promise<RendererReliefReport | undefined> =
      renderers.length > 0 && this.environment.ipcMain
        ? askRenderersForRelief(renderers, this.environment.ipcMain, {
            level: context.level,
            timeout: this.options.rendererTimeout,
            scheduler: context.scheduler,
            signal: context.signal,
          })
        : Promise.resolve(undefined);
    let cleared = 0;
    const failures: unknown[] = [];
    await Promise.all(
      sessions.map(async (session) => {
        try {
          await session.clearCache();
          cleared++;
        } catch (error) {
          failures.push(error);
          context.report(error, 'session.clearCache() failed');
        }
      }),
    );
    const report = await relief;
    if (failures.length > 0 && failures.length === sessions.length && !report?.answered) {
      throw MemshedError.from(failures[0], 'action-failed', 'electron-cache could not clear any cache');
    }
    const freedBytes = report?.freedBytes ?? 0;
    const parts = [`cleared the HTTP cache of ${plural(cleared, 'session')}`];
    if (report) {
      parts.push(
        `${report.answered} of ${plural(report.asked, 'renderer')} dropped their caches (${formatBytes(freedBytes)})`,
      );
    }
    return {
      ...(report ? { freedBytes, estimated: true } : {}),
      summary: parts.join('; '),
      details: {
        sessions: { cleared, failed: failures.length },
        ...(report
          ? { renderers: { asked: report.asked, answered: report.answered, incomplete: report.incomplete } }
          : {}),
      },
    };
  }

  /** The default session and every session a renderer uses, each once. */
  private sessions(): ElectronSession[] {
    const sessions = new Set<ElectronSession>();
    const defaultSession = this.environment.session?.defaultSession;
    if (defaultSession) sessions.add(defaultSession);
    for (const renderer of this.renderers()) sessions.add(renderer.session);
    return [...sessions];
  }

  private renderers() {
    return (this.environment.webContents?.getAllWebContents() ?? []).filter(
      (renderer) => !renderer.isDestroyed() && !renderer.isCrashed(),
    );
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
