import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  MemshedError,
  levelIndex,
  type MemshedErrorKind,
  type PressureLevel,
  type PressureNode,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import {
  nativeAvailability,
  watchEventfd,
  type NativeAvailability,
  type NativeWatcher,
} from '@memshed/native';
import type { CgroupV1Options } from './cgroup-v1-options';
import {
  DEFAULT_MEMORY_MOUNT,
  findMemoryMount,
  resolveMemoryCgroup,
  type MemoryCgroup,
  type MemoryMount,
} from './memory-cgroup';

/** The plugin id of this source. */
export const CGROUP_V1_SOURCE_ID = 'cgroup-v1';

/**
 * What the source needs from the machine: the native eventfd watcher and where /proc is. Tests
 * pass fakes and a fixture tree; the default is the real thing.
 */
export interface CgroupV1Host {
  /** The procfs root for /proc/self/cgroup and /proc/self/mountinfo. */
  readonly procRoot: string;
  /** The platform (the source is Linux-only). */
  readonly platform: NodeJS.Platform;
  /** `@memshed/native`'s watchEventfd. */
  watchEventfd(callback: (count: number) => void): NativeWatcher;
  /** `@memshed/native`'s nativeAvailability. */
  nativeAvailability(): NativeAvailability;
}

/** The real machine. */
export const defaultCgroupV1Host: CgroupV1Host = Object.freeze({
  procRoot: '/proc',
  platform: process.platform,
  watchEventfd,
  nativeAvailability,
});

/** One kernel registration of a running source, for diagnostics (`memshed doctor`, benchmarks). */
export interface CgroupV1Registration {
  /** `pressure` (memory.pressure_level), `oom` (memory.oom_control), `usage` (memory.usage_in_bytes). */
  readonly kind: 'pressure' | 'oom' | 'usage';
  /** What was written after the two fds: `low`, `critical,hierarchy`, a threshold in bytes, or ''. */
  readonly argument: string;
  /** The eventfd the kernel signals. */
  readonly fd: number;
  /** Kernel notifications received so far (the sum of the eventfd counters read). */
  readonly notifications: number;
}

/** Lifecycle of a {@link CgroupV1Source}. */
export type CgroupV1SourceState = 'idle' | 'running' | 'ended' | 'stopped';

interface Registration {
  readonly kind: CgroupV1Registration['kind'];
  readonly argument: string;
  /** Bit in the pending mask: levels 0-2, then OOM, then usage. */
  readonly bit: number;
  watcher: NativeWatcher | undefined;
  notifications: number;
}

const OOM_BIT = 1 << 3;
const USAGE_BIT = 1 << 4;
const LEVEL_BITS = 0b111;
/** memory.limit_in_bytes reads PAGE_COUNTER_MAX pages when unlimited: anything above 2^60 is "no limit". */
const UNLIMITED = 2 ** 60;

type Probe =
  | { ok: true; cgroup: MemoryCgroup; mount: MemoryMount; thresholdBytes: number | undefined }
  | { ok: false; kind: MemshedErrorKind; reason: string; hint: string };

/**
 * The cgroup v1 `memory.pressure_level` source: the kernel's own vmpressure levels for one memory
 * cgroup, delivered through eventfds registered on `cgroup.event_control`.
 *
 * - One eventfd per watched level (an eventfd is a counter: it does not say which level fired);
 *   each wakeup signals its level at the engine scope of the cgroup path (`/` for the mount's
 *   root, `/app/workers` for /sys/fs/cgroup/memory/app/workers), and the engine folds the signals
 *   of one turn of the event loop into one delivery of the highest level that fired.
 * - Storms: the first wakeup after a quiet period is handled at once, in libuv's poll phase, so the
 *   event reaches subscribers in the same turn; a wakeup less than `minIntervalMs` after the start
 *   of the last batch pauses the eventfds (the kernel keeps counting) until that interval has
 *   passed, then everything that fired meanwhile arrives as one batch. A kernel burst of thousands
 *   of notifications per second thus costs at most one read per eventfd and one delivery per
 *   interval.
 * - `oom`: an OOM in the cgroup (`memory.oom_control`) signals critical and logs a warning with
 *   the kernel's `oom_kill` count (the event says "the limit was hit", not "a task was killed").
 * - `usageThreshold`: usage rising past the threshold (`memory.usage_in_bytes`, the kernel checks
 *   it every 128 page charges) signals `usageLevel`; falling back below it signals nothing. When
 *   usage is already above the threshold at start, it signals once at start.
 * - Removal of the cgroup (the kernel signals every eventfd and `cgroup.event_control` disappears)
 *   ends the source: no signal for that wakeup, every fd closed, one `source-failed` error on the
 *   monitor's `errors$` saying so. No polling: nothing runs while the kernel is quiet.
 */
export class CgroupV1Source implements PressureSource {
  /** The plugin id, `cgroup-v1`. */
  readonly id = CGROUP_V1_SOURCE_ID;
  private status: CgroupV1SourceState = 'idle';
  private readonly entries: Registration[] = [];
  private pending = 0;
  /** The end of a held interval (storm), when one is pending. */
  private holdAction: ScheduledWork | undefined;
  /** Closes the current batch in the check phase of its turn. */
  private batchAction: ScheduledWork | undefined;
  private batchOpen = false;
  private sink: PressureSink | undefined;
  private node: PressureNode | undefined;
  private cgroup: MemoryCgroup | undefined;
  private thresholdBytes: number | undefined;
  private lastBatchAt = -Infinity;
  private paused = false;
  private readonly closeBatchWork = () => this.closeBatch();
  private readonly resumeWork = () => this.resume();

  constructor(
    /** Validated options (see `cgroupV1OptionsSchema`). */
    readonly options: CgroupV1Options,
    private readonly host: CgroupV1Host = defaultCgroupV1Host,
  ) {}

  /** `idle` before start, `running`, `ended` after the cgroup was removed, `stopped` after stop(). */
  get state(): CgroupV1SourceState {
    return this.status;
  }

  /** The engine scope events are signalled at (the cgroup path below the mount), once started. */
  get scope(): string | undefined {
    return this.cgroup?.scope;
  }

  /** The live kernel registrations (empty unless running). */
  registrations(): CgroupV1Registration[] {
    return this.entries
      .filter((entry) => entry.watcher && !entry.watcher.closed)
      .map((entry) => ({
        kind: entry.kind,
        argument: entry.argument,
        fd: entry.watcher!.fd,
        notifications: entry.notifications,
      }));
  }

  availability(): SourceAvailability {
    const probe = this.probe();
    if (!probe.ok) return { available: false, reason: probe.reason, hint: probe.hint };
    const watched = [
      `${this.options.levels.join(', ')} (${this.options.mode})`,
      this.options.oom ? 'oom' : undefined,
      probe.thresholdBytes !== undefined ? `usage >= ${probe.thresholdBytes} bytes` : undefined,
    ].filter((part) => part !== undefined);
    return {
      available: true,
      detail: `memory cgroup ${probe.cgroup.scope} (${probe.cgroup.dir}): ${watched.join('; ')}`,
    };
  }

  start(sink: PressureSink): void {
    if (this.status !== 'idle') {
      throw new MemshedError(
        'invalid-argument',
        `The cgroup-v1 source was already started (state ${this.status})`,
        {
          fix: 'create a new source to start again',
        },
      );
    }
    const probe = this.probe();
    if (!probe.ok)
      throw new MemshedError(probe.kind, probe.reason, { fix: probe.hint, context: { source: this.id } });
    this.sink = sink;
    this.cgroup = probe.cgroup;
    this.thresholdBytes = probe.thresholdBytes;
    this.node = sink.node(probe.cgroup.scope);
    this.status = 'running';
    try {
      const { mode } = this.options;
      for (const level of this.options.levels) {
        this.register(
          'pressure',
          'memory.pressure_level',
          mode === 'default' ? level : `${level},${mode}`,
          1 << levelIndex(level),
        );
      }
      if (this.options.oom) this.register('oom', 'memory.oom_control', '', OOM_BIT);
      if (this.thresholdBytes !== undefined) {
        this.register('usage', 'memory.usage_in_bytes', String(this.thresholdBytes), USAGE_BIT);
        // A threshold only fires on crossing: already above it is worth saying now.
        if (this.readUsage() >= this.thresholdBytes) this.notify(this.entries[this.entries.length - 1], 0);
      }
    } catch (error) {
      this.release();
      this.status = 'stopped';
      throw error;
    }
  }

  stop(): void {
    if (this.status === 'running' || this.status === 'idle') this.status = 'stopped';
    this.release();
  }

  private probe(): Probe {
    const fail = (kind: MemshedErrorKind, reason: string, hint: string): Probe => ({
      ok: false,
      kind,
      reason,
      hint,
    });
    if (this.host.platform !== 'linux') {
      return fail(
        'unavailable',
        `cgroup v1 memory notifications are unavailable on this platform (${this.host.platform}): they are Linux-only`,
        'use a portable source (v8, system) on this platform',
      );
    }
    const mount = this.findMount();
    if (!mount) {
      return fail(
        'unavailable',
        'no cgroup v1 memory controller is mounted (cgroup v2 has no memory.pressure_level)',
        'use the psi source (cgroup v2 and any kernel with PSI); or mount the v1 memory controller',
      );
    }
    let cgroup: MemoryCgroup;
    try {
      cgroup = resolveMemoryCgroup(this.options.cgroup, mount, this.host.procRoot);
    } catch (error) {
      const e = error as MemshedError;
      return fail(e.kind, e.message, e.fix ?? 'check the `cgroup` option');
    }
    if (!fs.existsSync(path.join(cgroup.dir, 'cgroup.event_control'))) {
      return fail(
        'unavailable',
        `memory cgroup ${cgroup.scope} not found (no ${path.join(cgroup.dir, 'cgroup.event_control')})`,
        `create it, or fix the \`cgroup\` option: 'self' or a path below ${mount.mountPoint}`,
      );
    }
    if (!fs.existsSync(path.join(cgroup.dir, 'memory.pressure_level'))) {
      return fail(
        'unavailable',
        `this kernel has no memory.pressure_level in ${cgroup.dir} (vmpressure notifications removed)`,
        'use the psi source',
      );
    }
    const native = this.host.nativeAvailability();
    if (!native.available) return fail('unavailable', native.reason, native.hint);
    for (const [file, mode] of [
      ['cgroup.event_control', fs.constants.W_OK],
      ['memory.pressure_level', fs.constants.R_OK],
    ] as const) {
      try {
        fs.accessSync(path.join(cgroup.dir, file), mode);
      } catch {
        return fail(
          'permission',
          `not permitted to ${mode === fs.constants.W_OK ? 'write' : 'open'} ${path.join(cgroup.dir, file)}`,
          'run as root, or delegate the cgroup to this user (chown its cgroup.event_control and memory.* files)',
        );
      }
    }
    let thresholdBytes: number | undefined;
    const threshold = this.options.usageThreshold;
    if (threshold && 'bytes' in threshold) thresholdBytes = threshold.bytes;
    else if (threshold) {
      const limit = readHierarchicalLimit(cgroup.dir);
      if (limit === undefined || limit >= UNLIMITED) {
        return fail(
          'invalid-config',
          `usageThreshold ${threshold.percent}% needs a memory limit, and cgroup ${cgroup.scope} has none`,
          "give usageThreshold in bytes (e.g. '512M'), or set memory.limit_in_bytes",
        );
      }
      thresholdBytes = Math.floor((limit * threshold.percent) / 100);
    }
    return { ok: true, cgroup, mount, thresholdBytes };
  }

  private findMount(): MemoryMount | undefined {
    if (this.options.mount !== undefined) {
      return fs.existsSync(path.join(this.options.mount, 'cgroup.event_control'))
        ? { mountPoint: this.options.mount, root: '/' }
        : undefined;
    }
    const found = findMemoryMount(this.host.procRoot);
    if (found) return found;
    // No mountinfo (a fixture /proc, a sandbox): the usual place.
    return fs.existsSync(path.join(DEFAULT_MEMORY_MOUNT, 'cgroup.event_control'))
      ? { mountPoint: DEFAULT_MEMORY_MOUNT, root: '/' }
      : undefined;
  }

  /** Creates an eventfd and registers it: `"<eventfd> <fd of file> [argument]"` on cgroup.event_control. */
  private register(kind: Registration['kind'], file: string, argument: string, bit: number): void {
    const entry: Registration = { kind, argument, bit, watcher: undefined, notifications: 0 };
    const dir = this.cgroup!.dir;
    let watcher: NativeWatcher;
    try {
      watcher = this.host.watchEventfd((count) => this.notify(entry, count));
    } catch (error) {
      throw MemshedError.from(error, 'unavailable', 'Could not create an eventfd');
    }
    entry.watcher = watcher;
    this.entries.push(entry);
    let fileFd: number | undefined;
    let controlFd: number | undefined;
    try {
      fileFd = fs.openSync(path.join(dir, file), fs.constants.O_RDONLY);
      controlFd = fs.openSync(
        path.join(dir, 'cgroup.event_control'),
        fs.constants.O_WRONLY | fs.constants.O_APPEND,
      );
      fs.writeSync(controlFd, `${watcher.fd} ${fileFd}${argument === '' ? '' : ` ${argument}`}\n`);
    } catch (error) {
      throw this.registrationError(error, kind, file, argument);
    } finally {
      // The kernel keeps no reference to these fds: the registration lives as long as the eventfd.
      if (fileFd !== undefined) fs.closeSync(fileFd);
      if (controlFd !== undefined) fs.closeSync(controlFd);
    }
  }

  private registrationError(
    error: unknown,
    kind: Registration['kind'],
    file: string,
    argument: string,
  ): MemshedError {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown';
    const dir = this.cgroup!.dir;
    const what = `Could not register ${file}${argument ? ` '${argument}'` : ''} on ${dir}/cgroup.event_control (${code})`;
    const context = { source: this.id, cgroup: this.cgroup!.scope, code };
    switch (code) {
      case 'EINVAL':
        return new MemshedError('invalid-argument', what, {
          cause: error,
          context,
          fix:
            kind === 'pressure' && this.options.mode !== 'default'
              ? "this kernel may predate vmpressure propagation modes: use mode 'default'"
              : 'the kernel rejected the registration text; check the level and threshold options',
        });
      case 'EACCES':
      case 'EPERM':
        return new MemshedError('permission', what, {
          cause: error,
          context,
          fix: 'run as root, or delegate the cgroup to this user (chown its cgroup.event_control)',
        });
      case 'ENOENT':
        return new MemshedError('unavailable', what, {
          cause: error,
          context,
          fix: 'the cgroup was removed: watch another one',
        });
      default:
        return new MemshedError('source-failed', what, { cause: error, context });
    }
  }

  /**
   * One eventfd wakeup, in libuv's poll phase. Outside a storm it is handled at once, so that the
   * engine's work (scheduled with setImmediate) runs in the check phase of this same turn: no
   * extra turn of the event loop per delivery. Wakeups of the other eventfds in the same poll
   * phase join the batch (the engine coalesces their signals to the highest level).
   */
  private notify(entry: Registration, count: number): void {
    if (this.status !== 'running') return;
    entry.notifications += count;
    this.pending |= entry.bit;
    if (this.holdAction) return;
    if (!this.batchOpen) {
      const scheduler = this.sink!.scheduler;
      const wait = this.lastBatchAt + this.options.minIntervalMs - scheduler.now();
      if (wait > 0) {
        // A storm: stop waking up until the interval is over; the eventfds keep counting, and
        // what they counted arrives in one wakeup each when polling resumes.
        this.setPaused(true);
        this.holdAction = scheduler.schedule(this.resumeWork, wait);
        return;
      }
      this.openBatch();
    }
    this.deliver();
  }

  /** Wakeups until the check phase of this turn are one batch; the next may start an interval later. */
  private openBatch(): void {
    const scheduler = this.sink!.scheduler;
    this.batchOpen = true;
    this.lastBatchAt = scheduler.now();
    this.batchAction = scheduler.schedule(this.closeBatchWork, 0);
  }

  /**
   * End of a held interval: delivers what was read before pausing, and polls again; the counters
   * that grew meanwhile are read in this turn's poll phase and join the same batch.
   */
  private resume(): void {
    this.holdAction = undefined;
    if (this.status !== 'running') return;
    try {
      this.setPaused(false);
    } catch (error) {
      this.sink!.error(error, `cgroup-v1 source could not resume its eventfds for ${this.cgroup!.scope}`);
    }
    if (this.pending !== 0 && !this.batchOpen) {
      this.openBatch();
      this.deliver();
    }
  }

  private closeBatch(): void {
    this.batchAction = undefined;
    this.batchOpen = false;
  }

  private setPaused(paused: boolean): void {
    if (this.paused === paused) return;
    this.paused = paused;
    for (const entry of this.entries) {
      if (paused) entry.watcher?.pause();
      else entry.watcher?.resume();
    }
  }

  /** Checks removal, then signals the highest level of what is pending (the engine coalesces). */
  private deliver(): void {
    const pending = this.pending;
    this.pending = 0;
    const sink = this.sink!;
    const cgroup = this.cgroup!;
    try {
      // On rmdir the kernel signals every eventfd once and the control file is gone: that wakeup
      // is an ending, not pressure. (One stat per wakeup: at most one per eventfd per interval.)
      if (!fs.existsSync(path.join(cgroup.dir, 'cgroup.event_control'))) {
        this.end();
        return;
      }
      let level = -1;
      const levels = pending & LEVEL_BITS;
      if (levels !== 0) level = 31 - Math.clz32(levels);
      if (pending & OOM_BIT) {
        level = 2;
        const oom = readOomControl(cgroup.dir);
        sink.logger.warn(
          `cgroup ${cgroup.scope} hit its memory limit: OOM (under_oom ${oom.underOom ?? '?'}, oom_kill ${oom.oomKill ?? '?'} so far); signalled critical`,
        );
      }
      if (pending & USAGE_BIT) {
        const usage = this.readUsage();
        if (usage >= this.thresholdBytes!) {
          level = Math.max(level, levelIndex(this.options.usageLevel));
          sink.logger.debug(
            `cgroup ${cgroup.scope} usage ${usage} bytes >= threshold ${this.thresholdBytes}`,
          );
        }
      }
      if (level >= 0) this.node!.signal(LEVEL_NAMES[level]);
    } catch (error) {
      sink.error(error, `cgroup-v1 source failed to handle a notification for ${cgroup.scope}`);
    }
  }

  private end(): void {
    this.status = 'ended';
    this.release();
    const cgroup = this.cgroup!;
    this.sink!.error(
      new MemshedError(
        'source-failed',
        `Cgroup ${cgroup.scope} was removed (${cgroup.dir}): the cgroup-v1 source stopped`,
        {
          fix: 'watch a cgroup that exists; restart memshed when it is created again',
          context: { source: this.id, cgroup: cgroup.scope, reason: 'cgroup-removed' },
        },
      ),
    );
  }

  private release(): void {
    this.holdAction?.unsubscribe();
    this.holdAction = undefined;
    this.batchAction?.unsubscribe();
    this.batchAction = undefined;
    this.batchOpen = false;
    this.pending = 0;
    for (const entry of this.entries) entry.watcher?.close();
    this.entries.length = 0;
    this.paused = false;
  }

  private readUsage(): number {
    return Number(fs.readFileSync(path.join(this.cgroup!.dir, 'memory.usage_in_bytes'), 'utf8'));
  }
}

const LEVEL_NAMES: readonly PressureLevel[] = ['low', 'medium', 'critical'];

type ScheduledWork = ReturnType<PressureSink['scheduler']['schedule']>;

function readOomControl(dir: string): { underOom?: number; oomKill?: number } {
  try {
    const fields = new Map(
      fs
        .readFileSync(path.join(dir, 'memory.oom_control'), 'utf8')
        .split('\n')
        .map((line) => line.split(' ') as [string, string]),
    );
    const number = (key: string) => (fields.has(key) ? Number(fields.get(key)) : undefined);
    return { underOom: number('under_oom'), oomKill: number('oom_kill') };
  } catch {
    return {};
  }
}

/** The effective limit: the smallest limit of the cgroup and its ancestors (memory.stat), else its own. */
function readHierarchicalLimit(dir: string): number | undefined {
  try {
    const stat = fs.readFileSync(path.join(dir, 'memory.stat'), 'utf8');
    const match = /^hierarchical_memory_limit (\d+)$/m.exec(stat);
    if (match) return Number(match[1]);
  } catch {
    // Fall back to the cgroup's own limit.
  }
  try {
    return Number(fs.readFileSync(path.join(dir, 'memory.limit_in_bytes'), 'utf8'));
  } catch {
    return undefined;
  }
}
