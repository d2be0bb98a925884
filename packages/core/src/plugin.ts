import type { StandardSchemaV1 } from '@standard-schema/spec';
import type { Observable, SchedulerLike } from 'rxjs';
import type { PressureEvent, PressureNode } from './engine';
import type { PressureState } from './levels';
import type { Logger } from './logger';

/**
 * A plugin's options contract: any Standard Schema (zod 4, valibot, arktype...). The validated
 * output is what `create()` receives, defaults applied.
 */
export type OptionsSchema<TOptions> = StandardSchemaV1<unknown, TOptions>;

/** What every plugin says about itself: its config id, what it does, its options. */
export interface PluginDescriptor<TOptions = unknown> {
  /** The id used in config (`use: cgroup-v1`) and on the command line; the package folder name. */
  readonly id: string;
  /** One line for `memshed plugins` and `memshed doctor`. */
  readonly description: string;
  /** Validates and defaults the `with:` options. */
  readonly optionsSchema: OptionsSchema<TOptions>;
}

/**
 * Whether a source can run here, and if not why and how to fix it (shown by `memshed doctor`).
 */
export type SourceAvailability =
  | {
      readonly available: true;
      /** What it will watch, e.g. the cgroup path. */
      readonly detail?: string;
      /**
       * Whose memory it judges: `cgroup` (a memory cgroup: a container's or a service's own),
       * `host` (the whole machine: /proc/vmstat, /proc/pressure/memory, MemAvailable), `process`
       * (this process only, e.g. its V8 heap). `memshed doctor` labels host-wide sources and, in a
       * memory cgroup with a limit, prefers a `cgroup` one as the default.
       */
      readonly scope?: 'cgroup' | 'host' | 'process';
    }
  | {
      readonly available: false;
      /** Why not, e.g. "no cgroup v1 memory controller at /sys/fs/cgroup/memory". */
      readonly reason: string;
      /** What to do instead, e.g. "use the psi source on cgroup v2". */
      readonly hint: string;
    };

/**
 * What a headroom is against: a word from a fixed set, never a path, since it labels metrics
 * (`memshed_headroom_used_bytes{target}`):
 *
 * - `container`: a memory cgroup's usage against its limit (or this process's RSS against
 *   `process.constrainedMemory()`): what the kernel OOM-kills at;
 * - `host`: the machine's memory in use against its total;
 * - `heap`: the V8 heap against its `heap_size_limit`: what V8 dies of.
 */
export type HeadroomTarget = 'container' | 'host' | 'heap';

/**
 * One headroom a source watches, as it last read it: usage against the limit where memory runs
 * out and, where the source predicts it (its time to limit), how fast usage grows and when at that
 * rate it reaches the limit. Plain data, for status and metrics (`memshed.sources[].headroom`,
 * `@memshed/prometheus`).
 */
export interface HeadroomReading {
  /** What it is against. A source has at most one reading per target. */
  readonly target: HeadroomTarget;
  /**
   * Bytes in use, as the source judges them (a container's working set unless it measures raw
   * usage, the committed heap).
   */
  readonly usedBytes: number;
  /** The limit, in bytes; Infinity when there is none (a group without a limit, watched against sizes). */
  readonly limitBytes: number;
  /**
   * How fast usage grows, in bytes per second; undefined while there is no steady growth (flat,
   * falling, or too few readings yet), and where the source does not predict.
   */
  readonly growthBytesPerSecond: number | undefined;
  /**
   * Milliseconds until usage reaches the limit at that growth (0 once it has); Infinity while there
   * is no steady growth; undefined where the source does not predict (its time to limit is off, or
   * it has none for this target).
   */
  readonly timeToLimitMs: number | undefined;
  /** When the source read it: its scheduler's clock (`sink.scheduler.now()`), in ms. */
  readonly time: number;
}

/**
 * What a running source pushes into: the engine's nodes, stamped with the source's id, and an
 * error channel that never throws into the host application.
 */
export interface PressureSink {
  /** The id of the source this sink belongs to. */
  readonly source: string;
  /** The scheduler of the engine: read time from it, schedule timers on it. */
  readonly scheduler: SchedulerLike;
  /** Where to write decisions and diagnostics. */
  readonly logger: Logger;
  /** The engine node at `path`, stamped with this source's id. Obtain once and hold it. */
  node(path: string): PressureNode;
  /** Reports a failure on the monitor's `errors$` and the log. The source decides whether to carry on. */
  error(error: unknown, message?: string): void;
}

/**
 * A source of memory pressure: it watches something (a kernel interface, a runtime, the OS) and
 * feeds the engine through one of the three doors: `account(scanned, reclaimed)`,
 * `accountPriority(prio)` or `signal(level)`.
 *
 * Lifecycle: `availability()` may be called any time (by `memshed doctor` without starting);
 * `start(sink)` once; `stop()` once, after which every fd, timer and registration is released.
 * A source never keeps the process alive by itself (unref its handles).
 */
export interface PressureSource {
  /** The plugin id, e.g. `psi`. */
  readonly id: string;
  /** Whether it can run on this machine, and if not, why and what to do. */
  availability(): SourceAvailability | Promise<SourceAvailability>;
  /** Starts watching and pushing into `sink`. Rejects with a MemshedError when it cannot. */
  start(sink: PressureSink): void | Promise<void>;
  /** Stops and releases everything. Idempotent. */
  stop(): void | Promise<void>;
  /**
   * Optional: what it sees now, while it runs, for status lines (`memshed.sources[].detail`), e.g.
   * `container growing 120 MiB/s, limit in 0.8 s`. Cheap: it says what the source last read.
   */
  detail?(): string | undefined;
  /**
   * Optional: the headrooms it watches (usage against a limit, and the time to it), as it last read
   * them: one reading per target, none before its first reading and once stopped. Cheap, and no
   * read of its own: it is called at every metrics scrape (`memshed.sources[].headroom`).
   */
  headroom?(): readonly HeadroomReading[];
}

/** Extension point: plugins bind a factory per source kind. */
export const PressureSourceFactory = Symbol('PressureSourceFactory');
/** Extension point: plugins bind a factory per source kind. */
export interface PressureSourceFactory<TOptions = unknown> extends PluginDescriptor<TOptions> {
  /** A new, unstarted source with validated options. */
  create(options: TOptions): PressureSource;
}

/**
 * What a shedding action decides about the chain it is in, as oomd's plugins do:
 * `continue` runs the next action of the chain, `stop` ends the chain here (enough was freed).
 */
export type ActionOutcome = 'continue' | 'stop';

/**
 * Everything an action run gets from the action runner: why it runs, whether for real, how
 * to stop, the clock, the monitor's state and a channel for failures that do not end the run.
 * Outside a runner (tests, scripts), `createActionContext()` from `@memshed/core/testing` builds one.
 */
export interface ActionContext {
  /** The monitor state that triggered the run. */
  readonly level: PressureState;
  /** The event behind it, when there is one. */
  readonly trigger: PressureEvent | undefined;
  /** Report what would be done, do nothing. */
  readonly dryRun: boolean;
  /** Aborted on timeout or shutdown: stop promptly, leave nothing half-done. */
  readonly signal: AbortSignal;
  /** Where to write what was done. */
  readonly logger: Logger;
  /** The policy that ran the action, when run by a policy. */
  readonly policy?: string;
  /** The runner's scheduler: read time from it and schedule timers on it (virtual time in tests). */
  readonly scheduler: SchedulerLike;
  /**
   * The monitor's state (replays the latest), e.g. to undo a shedding on recovery. `NEVER` when
   * the runner has no monitor.
   */
  readonly state$: Observable<PressureState>;
  /**
   * Reports a failure that does not end the run (one cache whose flush failed while the others
   * were purged): it goes to the runner's `errors$` and into the run's record.
   */
  report(error: unknown, message?: string): void;
}

/** What one action run did. */
export interface ActionResult {
  /** Whether the chain goes on. Default `continue`. */
  readonly outcome?: ActionOutcome;
  /** Bytes freed, when known (measured or estimated; see `estimated`). */
  readonly freedBytes?: number;
  /** Whether `freedBytes` is an estimate rather than a measurement. */
  readonly estimated?: boolean;
  /** One line for the log: what was done (or, in dry-run, what would have been). */
  readonly summary?: string;
  /**
   * The action's own structured facts, copied to the run's record as they are: what a cache purge
   * dropped, which services stopped, the heap before and after a collection. Plain JSON data, so
   * that `memshed run --json` can print it.
   */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * A shedding action: frees memory when asked. `run` honours `context.dryRun` (do nothing, say
 * what would be done) and `context.signal` (stop promptly), and never loses data: a write-back
 * cache flushes before it drops, a service drains before it stops.
 */
export interface SheddingAction {
  /** The plugin id, e.g. `cache-purge`. */
  readonly id: string;
  /** Runs once. Rejections are caught by the runner and reported, never thrown into the host. */
  run(context: ActionContext): Promise<ActionResult>;
}

/** Extension point: plugins bind a factory per action kind. */
export const SheddingActionFactory = Symbol('SheddingActionFactory');
/** Extension point: plugins bind a factory per action kind. */
export interface SheddingActionFactory<TOptions = unknown> extends PluginDescriptor<TOptions> {
  /** A new action with validated options. */
  create(options: TOptions): SheddingAction;
}

/**
 * Validates `input` against a plugin's schema synchronously, returning the output or the issues
 * with their key paths (relative to the options object). `undefined` is validated as `{}`.
 */
export function validateOptions<T>(
  schema: OptionsSchema<T>,
  input: unknown,
): { ok: true; value: T } | { ok: false; issues: { path: string; message: string }[] } {
  // An omitted `with:` means "all defaults".
  const result = schema['~standard'].validate(input === undefined ? {} : input);
  if (result instanceof Promise) {
    throw new TypeError('memshed plugin option schemas must validate synchronously');
  }
  if (result.issues === undefined) return { ok: true, value: result.value };
  return {
    ok: false,
    issues: result.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
  };
}

/** `['do', 1, 'use']` -> `do[1].use`. */
export function formatIssuePath(path: StandardSchemaV1.Issue['path']): string {
  let out = '';
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** A schema for plugins without options: accepts `undefined` or `{}`, rejects anything else. */
export const noOptions: OptionsSchema<Record<string, never>> = {
  '~standard': {
    version: 1,
    vendor: 'memshed',
    validate(value) {
      if (value === undefined || value === null) return { value: {} };
      if (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)
        return { value: {} };
      return { issues: [{ message: 'this plugin takes no options: remove `with`' }] };
    },
  },
};
