import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CgroupfsError,
  errnoKind,
  eventArgument,
  registerCgroupEvent,
  type CgroupEvent,
  type CgroupV1Memory,
  type LocatedCgroup,
} from '@memshed/cgroupfs';
import {
  MemshedError,
  levelIndex,
  type PressureLevel,
  type PressureNode,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import type { NativeWatcher } from '@memshed/native';
import { defaultCgroupV1Host, type CgroupV1Host } from './cgroup-v1-host';
import type { CgroupV1Options } from './cgroup-v1-options';
import { probeCgroupV1, registrationError } from './cgroup-v1-probe';

/** The plugin id of this source. */
export const CGROUP_V1_SOURCE_ID = 'cgroup-v1';

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
  private cgroup: LocatedCgroup | undefined;
  private memory: CgroupV1Memory | undefined;
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
    return this.cgroup?.relativePath;
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
    const probe = probeCgroupV1(this.options, this.host);
    if (!probe.ok) return { available: false, reason: probe.reason, hint: probe.hint };
    const watched = [
      `${this.options.levels.join(', ')} (${this.options.mode})`,
      this.options.oom ? 'oom' : undefined,
      probe.thresholdBytes !== undefined ? `usage >= ${probe.thresholdBytes} bytes` : undefined,
    ].filter((part) => part !== undefined);
    return {
      available: true,
      detail: `memory cgroup ${probe.cgroup.relativePath} (${probe.cgroup.directory}): ${watched.join('; ')}`,
      scope: 'cgroup',
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
    const probe = probeCgroupV1(this.options, this.host);
    if (!probe.ok)
      throw new MemshedError(probe.kind, probe.reason, { fix: probe.hint, context: { source: this.id } });
    this.sink = sink;
    this.cgroup = probe.cgroup;
    this.memory = probe.memory;
    this.thresholdBytes = probe.thresholdBytes;
    this.node = sink.node(probe.cgroup.relativePath);
    this.status = 'running';
    try {
      const { mode } = this.options;
      for (const level of this.options.levels) {
        this.register({ kind: 'pressure', level, mode }, 1 << levelIndex(level));
      }
      if (this.options.oom) this.register({ kind: 'oom' }, OOM_BIT);
      if (this.thresholdBytes !== undefined) {
        this.register({ kind: 'usage', bytes: this.thresholdBytes }, USAGE_BIT);
        // A threshold only fires on crossing: already above it is worth saying now.
        if (probe.memory.usage() >= this.thresholdBytes)
          this.notify(this.entries[this.entries.length - 1], 0);
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

  /**
   * Registers one eventfd through cgroupfs (which owns the fd lifecycle: the eventfd is the
   * registration). A failed registration leaves nothing open.
   */
  private register(event: CgroupEvent, bit: number): void {
    const entry: Registration = {
      kind: event.kind,
      argument: eventArgument(event),
      bit,
      watcher: undefined,
      notifications: 0,
    };
    const cgroup = this.cgroup!;
    try {
      entry.watcher = registerCgroupEvent(
        cgroup.directory,
        event,
        (callback) => this.host.watchEventfd(callback),
        (count) => this.notify(entry, count),
      );
    } catch (error) {
      if (error instanceof CgroupfsError) {
        throw registrationError(
          error,
          { source: this.id, cgroup: cgroup.relativePath },
          this.options.mode,
          event.kind,
        );
      }
      // @memshed/native's errors carry an errno name (or ADDON_UNAVAILABLE) and a fix.
      const { code, fix } = error as { code?: string; fix?: string };
      const kind = errnoKind(code);
      throw MemshedError.from(
        error,
        kind === 'internal' ? 'unavailable' : kind,
        'Could not create an eventfd',
        {
          fix,
          context: { source: this.id, code },
        },
      );
    }
    this.entries.push(entry);
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
      this.sink!.error(
        error,
        `cgroup-v1 source could not resume its eventfds for ${this.cgroup!.relativePath}`,
      );
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
      if (!fs.existsSync(path.join(cgroup.directory, 'cgroup.event_control'))) {
        this.end();
        return;
      }
      let level = -1;
      const levels = pending & LEVEL_BITS;
      if (levels !== 0) level = 31 - Math.clz32(levels);
      if (pending & OOM_BIT) {
        level = 2;
        const oom = this.readOomControl();
        sink.logger.warn(
          `cgroup ${cgroup.relativePath} hit its memory limit: OOM (under_oom ${oom.underOom ?? '?'}, oom_kill ${oom.oomKill ?? '?'} so far); signalled critical`,
        );
      }
      if (pending & USAGE_BIT) {
        const usage = this.memory!.usage();
        if (usage >= this.thresholdBytes!) {
          level = Math.max(level, levelIndex(this.options.usageLevel));
          sink.logger.debug(
            `cgroup ${cgroup.relativePath} usage ${usage} bytes >= threshold ${this.thresholdBytes}`,
          );
        }
      }
      if (level >= 0) this.node!.signal(LEVEL_NAMES[level]);
    } catch (error) {
      sink.error(error, `cgroup-v1 source failed to handle a notification for ${cgroup.relativePath}`);
    }
  }

  private end(): void {
    this.status = 'ended';
    this.release();
    const cgroup = this.cgroup!;
    this.sink!.error(
      new MemshedError(
        'source-failed',
        `Cgroup ${cgroup.relativePath} was removed (${cgroup.directory}): the cgroup-v1 source stopped`,
        {
          fix: 'watch a cgroup that exists; restart memshed when it is created again',
          context: { source: this.id, cgroup: cgroup.relativePath, reason: 'cgroup-removed' },
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

  /** memory.oom_control now, for the log line; empty when it cannot be read. */
  private readOomControl(): { underOom?: number; oomKill?: number } {
    try {
      return this.memory!.oomControl();
    } catch {
      return {};
    }
  }
}

const LEVEL_NAMES: readonly PressureLevel[] = ['low', 'medium', 'critical'];

type ScheduledWork = ReturnType<PressureSink['scheduler']['schedule']>;
