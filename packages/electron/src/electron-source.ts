import {
  LevelGate,
  MemshedError,
  type PressureLevel,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import {
  levelForUsage,
  parseThreshold,
  resolveThresholds,
  type LevelThresholds,
} from '@memshed/source-system';
import type { Subscription } from 'rxjs';
import { z } from '@memshed/options';
import type { ElectronEnvironment } from './electron-environment';
import { durationSchema, orFalse, sizeSchema, thresholdSchema } from './electron-options';

const systemSchema = z.strictObject({
  /** Optional: signal `low` from here. */
  low: thresholdSchema.optional(),
  /** Signal `medium` from here. Default 75% of RAM in use (Chromium's moderate). */
  medium: thresholdSchema.default(parseThreshold('75%')),
  /** Signal `critical` from here. Default 85% in use (Chromium's critical). */
  critical: thresholdSchema.default(parseThreshold('85%')),
});

const appSchema = z.strictObject({
  /** The app's memory budget: the working sets of all its processes (main, renderers, GPU, utilities). */
  limit: sizeSchema,
  /** Optional: signal `low` from here. */
  low: thresholdSchema.optional(),
  /** Signal `medium` from here. Default 75% of the budget. */
  medium: thresholdSchema.default(parseThreshold('75%')),
  /** Signal `critical` from here. Default 90% of the budget. */
  critical: thresholdSchema.default(parseThreshold('90%')),
});

/**
 * Options of the `electron` source (`with:` in config). Thresholds are written as for the `system`
 * source: `'75%'`, `'25% free'`, `'1.5GiB'`, `'512MiB free'`.
 *
 * @example
 * { system: { medium: '70%' }, app: { limit: '2GiB' }, interval: '1s' }
 */
export const electronSourceOptionsSchema = z.strictObject({
  /** The engine node under which `system` and `app` report. Default `/electron`. */
  scope: z.string().startsWith('/', 'must be an absolute node path such as /electron').default('/electron'),
  /** The machine's memory in use, from `process.getSystemMemoryInfo()`; `false` turns it off. */
  system: orFalse(systemSchema, {}),
  /** The app's footprint against a budget, from `app.getAppMetrics()`. Off unless given. */
  app: orFalse(appSchema, false),
  /** The poll period. Default 1s. */
  interval: durationSchema.refine((ms) => ms > 0, 'must be longer than 0ms').default(1000),
  /** How often a level that holds is signalled again (a higher one at once). Default 1s. */
  repeat: durationSchema.default(1000),
});

/** Validated options of the `electron` source. */
export type ElectronSourceOptions = z.output<typeof electronSourceOptionsSchema>;
/** Options of the `electron` source as written. */
export type ElectronSourceOptionsInput = z.input<typeof electronSourceOptionsSchema>;

/** One reading of the source, for logs and tests. */
export interface ElectronMemoryReading {
  /** Bytes of RAM in use (total less available on Linux, less free elsewhere), and the total. */
  readonly system?: {
    readonly used: number;
    readonly total: number;
    readonly level: PressureLevel | undefined;
  };
  /** Bytes of the app's working sets, and the budget. */
  readonly app?: { readonly used: number; readonly limit: number; readonly level: PressureLevel | undefined };
}

/**
 * A portable source for Electron main processes on platforms without kernel pressure signals
 * (macOS, Windows; on Linux prefer `psi` or `cgroup-v1`): every `interval` it reads
 * `process.getSystemMemoryInfo()` (RAM in use against thresholds, Chromium's 75%/85% by default)
 * and, with a budget, `app.getAppMetrics()` (the working sets of every process of the app), and
 * signals the level reached at `<scope>/system` and `<scope>/app`, again every `repeat` while it
 * holds. Electron reports kilobytes; memshed works in bytes.
 */
export class ElectronSource implements PressureSource {
  readonly id = 'electron';
  /** The last reading, for logs and tests. */
  last: ElectronMemoryReading | undefined;
  private polling: Subscription | undefined;

  constructor(
    private readonly options: ElectronSourceOptions,
    private readonly environment: ElectronEnvironment | undefined,
  ) {}

  availability(): SourceAvailability {
    const environment = this.environment;
    const wantsSystem = this.options.system !== false;
    const wantsApp = this.options.app !== false;
    if (!wantsSystem && !wantsApp) {
      return { available: false, reason: 'both system and app are turned off', hint: 'turn one of them on' };
    }
    const missing = [
      ...(wantsSystem && !environment?.process ? ['process.getSystemMemoryInfo()'] : []),
      ...(wantsApp && !environment?.app ? ['app.getAppMetrics()'] : []),
    ];
    if (missing.length > 0) {
      return {
        available: false,
        reason: environment
          ? `Electron's ${missing.join(' and ')} were not passed to memshed`
          : 'not running in an Electron main process',
        hint: environment
          ? 'pass them with electronEnvironmentModule({ app, process })'
          : 'use it in an Electron main process; elsewhere use the system source',
      };
    }
    return { available: true, detail: this.describe() };
  }

  start(sink: PressureSink): void {
    if (this.polling) throw new MemshedError('invalid-argument', "Source 'electron' is already started");
    const availability = this.availability();
    if (!availability.available) {
      throw new MemshedError('unavailable', `Source 'electron' cannot start: ${availability.reason}`, {
        fix: availability.hint,
      });
    }
    const { scope, repeat } = this.options;
    const system =
      this.options.system === false
        ? undefined
        : new LevelGate(sink.node(`${scope}/system`), sink.scheduler, repeat);
    const app =
      this.options.app === false
        ? undefined
        : new LevelGate(sink.node(`${scope}/app`), sink.scheduler, repeat);
    const poll = () => {
      try {
        const reading = this.read();
        this.last = reading;
        if (system) system.offer(reading.system?.level);
        if (app) app.offer(reading.app?.level);
      } catch (error) {
        // A failed reading is reported; the next one may work.
        sink.error(error, 'The electron source failed to read memory');
      }
    };
    poll();
    const interval = this.options.interval;
    // The loop scheduler's timers are unref'd: polling never keeps the app alive by itself.
    this.polling = sink.scheduler.schedule(function () {
      poll();
      this.schedule(undefined, interval);
    }, interval);
  }

  stop(): void {
    this.polling?.unsubscribe();
    this.polling = undefined;
  }

  /** Reads both figures now, without signalling. */
  read(): ElectronMemoryReading {
    const reading: { system?: ElectronMemoryReading['system']; app?: ElectronMemoryReading['app'] } = {};
    const { system, app } = this.options;
    if (system !== false && this.environment?.process) {
      const info = this.environment.process.getSystemMemoryInfo();
      // Kilobytes. On Linux `free` is MemFree (page cache counts as used); `available` is the
      // kernel's MemAvailable, the figure that means something.
      const total = info.total * 1024;
      const free =
        (typeof info.available === 'number' && info.available > 0 ? info.available : info.free) * 1024;
      const used = Math.max(0, total - free);
      reading.system = {
        used,
        total,
        level: levelForUsage(used, resolveThresholds(system as LevelThresholds, total)),
      };
    }
    if (app !== false && this.environment?.app) {
      let used = 0;
      for (const metric of this.environment.app.getAppMetrics()) used += metric.memory.workingSetSize * 1024;
      reading.app = {
        used,
        limit: app.limit,
        level: levelForUsage(used, resolveThresholds(app as LevelThresholds, app.limit)),
      };
    }
    return reading;
  }

  private describe(): string {
    const parts = [];
    if (this.options.system !== false) parts.push('system memory in use');
    if (this.options.app !== false)
      parts.push(`the app's working sets against ${this.options.app.limit} bytes`);
    return `${parts.join(' and ')}, every ${this.options.interval} ms`;
  }
}
