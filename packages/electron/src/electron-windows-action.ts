import { formatBytes, type ActionContext, type ActionResult } from '@memshed/core';
import { z } from '@memshed/options';
import { ElectronAction } from './electron-action';
import type { ElectronWindow } from './electron-environment';

/**
 * Options of the `electron-windows` action (`with:` in config).
 *
 * @example
 * { action: close, background: hidden, max: 2 }
 */
export const electronWindowsOptionsSchema = z.strictObject({
  /**
   * What to do with a background window: `reload` (its page starts afresh: the renderer's heap and
   * DOM are rebuilt small) or `close`. The application's `windowPolicy` decides per window. Default
   * `reload`.
   */
  action: z.enum(['reload', 'close']).default('reload'),
  /**
   * Which windows count as background: `hidden` (not visible), `minimized` (hidden or minimized),
   * `unfocused` (any window but the focused one). The focused window is never touched. Default
   * `minimized`.
   */
  background: z.enum(['hidden', 'minimized', 'unfocused']).default('minimized'),
  /** At most this many windows per run, largest renderer first. Default: all. */
  max: z.number().int().positive().optional(),
  /** Never close the last open window (which would quit the app on Windows and Linux). Default true. */
  keepLast: z.boolean().default(true),
});

/** Validated options of the `electron-windows` action. */
export type ElectronWindowsOptions = z.output<typeof electronWindowsOptionsSchema>;
/** Options of the `electron-windows` action as written. */
export type ElectronWindowsOptionsInput = z.input<typeof electronWindowsOptionsSchema>;

/** What the action did to one window. */
export interface WindowOutcome {
  readonly id: number;
  readonly title: string;
  readonly done: 'closed' | 'reloaded' | 'kept';
  /** The renderer's working set before, in bytes, when `app.getAppMetrics()` knows it. */
  readonly workingSet?: number;
}

/**
 * Closes or reloads background windows, largest renderer first, as the application's
 * `windowPolicy` allows: the Electron counterpart of Chromium discarding background tabs. The
 * focused window is never touched, windows still loading are skipped, and the last window is kept
 * unless `keepLast` is false. Closing frees the renderer process (its working set is reported as an
 * estimate); reloading frees its heap and DOM, an amount nobody can know in advance.
 */
export class ElectronWindowsAction extends ElectronAction<ElectronWindowsOptions> {
  readonly id = 'electron-windows';

  async run(context: ActionContext): Promise<ActionResult> {
    const all = (this.environment.BrowserWindow?.getAllWindows() ?? []).filter(
      (window) => !window.isDestroyed(),
    );
    const sizes = this.workingSets();
    const sizeOf = (window: ElectronWindow) => sizes.get(safePid(window));
    const candidates = all
      .filter((window) => this.isBackground(window) && !window.webContents.isLoading())
      .sort((a, b) => (sizeOf(b) ?? 0) - (sizeOf(a) ?? 0));

    const outcomes: WindowOutcome[] = [];
    let open = all.length;
    let freed = 0;
    let touched = 0;
    // Windows of one site can share a renderer process: count each process once.
    const counted = new Set<number>();
    for (const window of candidates) {
      if (context.signal.aborted) break;
      if (this.options.max !== undefined && touched >= this.options.max) break;
      const decision =
        this.environment.windowPolicy?.(window, { level: context.level, action: this.options.action }) ??
        this.options.action;
      const workingSet = sizeOf(window);
      const base = {
        id: window.id,
        title: window.getTitle(),
        ...(workingSet === undefined ? {} : { workingSet }),
      };
      if (decision === 'keep' || (decision === 'close' && this.options.keepLast && open <= 1)) {
        outcomes.push({ ...base, done: 'kept' });
        continue;
      }
      touched++;
      if (decision === 'close') {
        if (!context.dryRun) window.close();
        open--;
        const pid = safePid(window);
        if (workingSet !== undefined && !counted.has(pid)) {
          counted.add(pid);
          freed += workingSet;
        }
        outcomes.push({ ...base, done: 'closed' });
      } else {
        if (!context.dryRun) window.webContents.reload();
        outcomes.push({ ...base, done: 'reloaded' });
      }
    }

    const closed = outcomes.filter((o) => o.done === 'closed').length;
    const reloaded = outcomes.filter((o) => o.done === 'reloaded').length;
    const verb = context.dryRun ? 'would have ' : '';
    // Nothing shed is 0 freed (a policy backs off on it); reloads alone free an unknown amount.
    const freedBytes =
      closed > 0 ? { freedBytes: freed, estimated: true } : closed + reloaded === 0 ? { freedBytes: 0 } : {};
    return {
      ...freedBytes,
      summary:
        closed + reloaded === 0
          ? `no background window to shed (${all.length} open)`
          : `${verb}closed ${closed} and ${verb}reloaded ${reloaded} background window(s)${closed > 0 ? ` (~${formatBytes(freed)})` : ''}`,
      details: { windows: outcomes },
    };
  }

  private isBackground(window: ElectronWindow): boolean {
    if (window.isFocused()) return false;
    switch (this.options.background) {
      case 'hidden':
        return !window.isVisible();
      case 'minimized':
        return !window.isVisible() || window.isMinimized();
      case 'unfocused':
        return true;
    }
  }

  /** Working set by renderer pid, in bytes (Electron reports kilobytes). */
  private workingSets(): Map<number, number> {
    const sizes = new Map<number, number>();
    try {
      for (const metric of this.environment.app?.getAppMetrics() ?? []) {
        sizes.set(metric.pid, metric.memory.workingSetSize * 1024);
      }
    } catch {
      // Estimates only: without them windows are shed in window order.
    }
    return sizes;
  }
}

function safePid(window: ElectronWindow): number {
  try {
    return window.webContents.getOSProcessId();
  } catch {
    return -1;
  }
}
