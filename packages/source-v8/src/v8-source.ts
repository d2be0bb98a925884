import {
  LevelGate,
  MemshedError,
  formatBytes,
  formatDuration,
  type HeadroomReading,
  type PressureNode,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import { interval } from '@memshed/core/rx';
import {
  TimeToLimit,
  headroomReading,
  levelWithPrediction,
  type HeadroomSample,
} from '@memshed/growth-trend';
import type { Subscription } from 'rxjs';
import { headroomLevel, reclaimPass, type HeadroomThresholds, type HeapSample } from './gc-accounting';
import {
  createGcRecorder,
  currentHeapSample,
  detectGcRecorderKind,
  type GcBatch,
  type GcRecorder,
  type GcRecorderKind,
} from './gc-recorder';
import type { V8SourceOptions } from './v8-source-options';

/** Where the source gets its recorder and the heap from; replaced in tests. */
export interface V8SourceEnvironment {
  /** The recorder kind the runtime offers, or undefined when it cannot observe collections. */
  detect(): GcRecorderKind | undefined;
  /** Creates a recorder; `window` is the minimum milliseconds between two profiler harvests. */
  create(kind: GcRecorderKind, window: number): GcRecorder;
  /** Reads the heap now (`v8.getHeapStatistics()`); default the runtime's. */
  heap?(): HeapSample;
}

const runtimeEnvironment: V8SourceEnvironment = {
  detect: detectGcRecorderKind,
  create: createGcRecorder,
  heap: currentHeapSample,
};

const MiB = 1024 * 1024;

/**
 * The V8 heap as a reclaim domain, fed into the engine through two doors:
 *
 * - every garbage collection is a reclaim pass: the bytes it examined (the young generation for a
 *   scavenge, the whole heap for a mark-sweep) and the bytes it freed, in 4 KiB pages, go to
 *   `account(scanned, reclaimed)`. A heap whose collections free little of what they examine is
 *   under pressure, and the engine's window says how much (60% failed: medium, 95%: critical).
 *   Collections are accounted once the committed heap reaches `efficiencyFrom` of the limit (a
 *   young heap that keeps what it allocates is growing, not short).
 * - headroom: the committed heap against `heap_size_limit` (where V8 crashes with "JavaScript heap
 *   out of memory") is signalled as `medium` and then `critical` as it closes in, the way
 *   `vmpressure_prio` forces a failing reclaim to critical whatever its efficiency. The time to
 *   limit (the committed heap's growth rate, and when at that rate it reaches the limit) raises it
 *   too, read every `timeToLimit.interval` between collections once the heap is past its floor:
 *   V8's heap limit gets no kernel event at all.
 *
 * Collections are observed in `v8.GCProfiler` windows (at most one harvest per `window`, 100 ms by
 * default) closed after performance `gc` entries: no per-allocation hook, nothing while the heap is
 * quiet. Works in Node >= 18.15 and in
 * Electron's main process; older runtimes get headroom only (`recorder: heap-statistics`).
 */
export class V8Source implements PressureSource {
  readonly id = 'v8';
  private recorder: GcRecorder | undefined;
  private node: PressureNode | undefined;
  private sink: PressureSink | undefined;
  private readonly thresholds: HeadroomThresholds;
  private readonly efficiencyFrom: number | false;
  private gate: LevelGate | undefined;
  private timeToLimit: TimeToLimit | undefined;
  private lastRead: HeadroomSample | undefined;
  private timer: Subscription | undefined;

  constructor(
    private readonly options: V8SourceOptions,
    private readonly environment: V8SourceEnvironment = runtimeEnvironment,
  ) {
    this.thresholds = {
      low: options.low,
      medium: options.medium,
      critical: options.critical,
      externalLimit: options.externalLimit,
    };
    this.efficiencyFrom = options.efficiencyFrom;
  }

  availability(): SourceAvailability {
    const kind = this.recorderKind();
    if (kind === undefined) {
      if (this.options.recorder === 'gc-profiler' && this.environment.detect() !== undefined) {
        return {
          available: false,
          reason: 'v8.GCProfiler is not available in this runtime (Node >= 18.15 or 19.6 has it)',
          hint: "upgrade Node, or set recorder: 'heap-statistics' for headroom without GC efficiency",
        };
      }
      return {
        available: false,
        reason: 'this runtime cannot observe garbage collections (no performance gc entries)',
        hint: 'run on Node >= 18.15 or Electron >= 23',
      };
    }
    const heap = currentHeapSample();
    const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;
    return {
      available: true,
      detail:
        `V8 heap limit ${Math.round(heap.limit / MiB)} MiB, ${kind === 'gc-profiler' ? 'GC efficiency and headroom' : 'headroom only'}` +
        ` (medium at ${percent(this.options.medium)} committed, critical at ${percent(this.options.critical)}` +
        (this.options.timeToLimit
          ? `, or when the limit is less than ${formatDuration(this.options.timeToLimit.medium)} (medium)${Number.isFinite(this.options.timeToLimit.critical) ? ` or ${formatDuration(this.options.timeToLimit.critical)} (critical)` : ''} away at the growth rate`
          : '') +
        ')',
    };
  }

  start(sink: PressureSink): void {
    if (this.recorder) return;
    const kind = this.recorderKind();
    if (kind === undefined) {
      const availability = this.availability() as Extract<SourceAvailability, { available: false }>;
      throw new MemshedError('unavailable', `Source 'v8' cannot start: ${availability.reason}`, {
        fix: availability.hint,
      });
    }
    this.sink = sink;
    this.node = sink.node(this.options.scope);
    this.gate = new LevelGate(this.node, sink.scheduler, this.options.repeat);
    this.timeToLimit = this.options.timeToLimit ? new TimeToLimit(this.options.timeToLimit) : undefined;
    this.recorder = this.environment.create(kind, this.options.window);
    this.recorder.start(
      (batch) => this.onBatch(batch),
      (error) => sink.error(error, "Source 'v8' failed to read a garbage collection"),
    );
  }

  stop(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.recorder?.stop();
    this.recorder = undefined;
    this.gate = undefined;
    this.timeToLimit = undefined;
    this.lastRead = undefined;
    this.node = undefined;
    this.sink = undefined;
  }

  /**
   * While it runs, the committed heap's growth and time to limit as last read, e.g. `heap growing
   * 120 MiB/s, limit in 0.8 s`; undefined when the time to limit is off or it is not running.
   */
  detail(): string | undefined {
    return this.timeToLimit && `heap ${this.timeToLimit.describe()}`;
  }

  /**
   * While it runs, the committed heap against `heap_size_limit` as last read (after the last batch
   * of collections, or between them past the time-to-limit floor), with the growth rate and time to
   * limit predicted from it (none with `timeToLimit: false`): target `heap`, once read.
   */
  headroom(): readonly HeadroomReading[] {
    return this.lastRead ? [headroomReading('heap', this.lastRead, this.timeToLimit)] : [];
  }

  private recorderKind(): GcRecorderKind | undefined {
    switch (this.options.recorder) {
      case 'auto':
        return this.environment.detect();
      case 'gc-profiler':
        return this.environment.detect() === 'gc-profiler' ? 'gc-profiler' : undefined;
      case 'heap-statistics':
        return this.environment.detect() === undefined ? undefined : 'heap-statistics';
    }
  }

  /** One batch of collections: account each as a reclaim pass, then judge the headroom left. */
  private onBatch(batch: GcBatch): void {
    const node = this.node;
    if (!node) return;
    if (this.efficiencyFrom !== false) {
      for (const record of batch.records) {
        if (record.before.committed < this.efficiencyFrom * record.before.limit) continue;
        const pass = reclaimPass(record);
        if (pass) node.account(pass.scanned, pass.reclaimed);
      }
    }
    this.judgeHeadroom(node, batch.heap);
  }

  /** A read between collections, every `timeToLimit.interval` while the heap is past the floor. */
  private onTick(): void {
    const node = this.node;
    if (!node) return;
    let heap: HeapSample;
    try {
      heap = (this.environment.heap ?? currentHeapSample)();
    } catch (error) {
      // No reading rather than an old one, as long as the heap cannot be read.
      this.lastRead = undefined;
      this.sink?.error(error, "Source 'v8' could not read the heap statistics");
      return;
    }
    this.judgeHeadroom(node, heap);
  }

  /**
   * Signals the fractions' level raised by the time to limit's (levelWithPrediction: a predicted
   * critical needs the heap past the medium fraction): a level when it rises, and
   * again every `repeat` ms while it holds; while the time to limit holds the level, at every
   * reading (the engine coalesces a turn's signals), so that policies hear the limit is still coming.
   */
  private judgeHeadroom(node: PressureNode, heap: HeapSample): void {
    const sink = this.sink;
    const gate = this.gate;
    if (!sink || !gate) return;
    const byFraction = headroomLevel(heap, this.thresholds);
    const timeToLimit = this.timeToLimit;
    const now = sink.scheduler.now();
    this.lastRead = { time: now, used: heap.committed, limit: heap.limit };
    const trend = timeToLimit?.observe(now, heap.committed, heap.limit);
    const { level, byPrediction } = levelWithPrediction(trend?.level, byFraction);
    if (byPrediction && level !== undefined) {
      const reason = `heap ${trend?.reason}`;
      if (!gate.offer(level, reason)) node.signal(level, reason);
    } else {
      gate.offer(
        level,
        level && `heap ${formatBytes(heap.committed)} of ${formatBytes(heap.limit)} committed`,
      );
    }
    if (!timeToLimit) return;
    // Collections alone can be too far apart to see the heap grow: read it often past the floor.
    const fast = heap.committed >= timeToLimit.floor(heap.limit);
    if (fast && !this.timer) {
      this.timer = interval(timeToLimit.options.interval, sink.scheduler).subscribe(() => this.onTick());
    } else if (!fast && this.timer) {
      this.timer.unsubscribe();
      this.timer = undefined;
    }
  }
}
