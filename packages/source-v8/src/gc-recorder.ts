import { PerformanceObserver } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import type { GcRecord, HeapSample } from './gc-accounting';

/**
 * How garbage collections are observed:
 * - `gc-profiler`: `v8.GCProfiler` (Node >= 18.15 / 19.6, Electron >= 23) gives, per collection,
 *   the heap before and after, so every collection is a reclaim pass; plus headroom.
 * - `heap-statistics`: performance `gc` entries plus `v8.getHeapStatistics()` after them: headroom
 *   only (the heap before each collection is not known, so there is no efficiency).
 */
export type GcRecorderKind = 'gc-profiler' | 'heap-statistics';

/** What the recorder hands over after one or more collections. */
export interface GcBatch {
  /** The collections since the last batch, oldest first (empty for `heap-statistics`). */
  readonly records: readonly GcRecord[];
  /** The heap after the last of them. */
  readonly heap: HeapSample;
}

/**
 * Observes garbage collections without per-allocation hooks and hands them over in batches, on
 * the event loop, after they happened. It holds no handle: it never keeps the process alive.
 */
export interface GcRecorder {
  /** Which mechanism it uses. */
  readonly kind: GcRecorderKind;
  /**
   * Starts observing; `onBatch` runs after collections, never inside one. What `onBatch` or the
   * recorder itself throws goes to `onError`, never into the host application.
   */
  start(onBatch: (batch: GcBatch) => void, onError: (error: unknown) => void): void;
  /** Stops observing. Idempotent. */
  stop(): void;
}

/** Whether `v8.GCProfiler` exists in this runtime. */
export function hasGcProfiler(): boolean {
  return typeof (v8 as { GCProfiler?: unknown }).GCProfiler === 'function';
}

/** Whether performance `gc` entries can be observed in this runtime. */
export function hasGcEntries(): boolean {
  // Typed by @types/node only from Node 22; present since Node 16.
  const types = (PerformanceObserver as { supportedEntryTypes?: readonly string[] }).supportedEntryTypes;
  return (types ?? []).includes('gc');
}

/** The best recorder kind this runtime offers, or undefined when it cannot observe collections. */
export function detectGcRecorderKind(): GcRecorderKind | undefined {
  if (!hasGcEntries()) return undefined;
  return hasGcProfiler() ? 'gc-profiler' : 'heap-statistics';
}

/** Creates a recorder of `kind`; `window` is the minimum milliseconds between two harvests of the profiler. */
export function createGcRecorder(kind: GcRecorderKind, window?: number): GcRecorder {
  return kind === 'gc-profiler' ? new ProfilerGcRecorder(window) : new HeapStatisticsGcRecorder();
}

type ProfileStatistics = v8.GCProfilerResult['statistics'][number];
type ProfileHeap = ProfileStatistics['beforeGC'];

/** One side (before or after) of a GCProfiler record as a {@link HeapSample}. */
function profileHeapSample(side: ProfileHeap): HeapSample {
  const stats = side.heapStatistics;
  let young = 0;
  for (const space of side.heapSpaceStatistics) {
    if (space.spaceName === 'new_space' || space.spaceName === 'new_large_object_space') {
      young += space.spaceUsedSize;
    }
  }
  return {
    used: stats.usedHeapSize,
    committed: stats.totalHeapSize,
    limit: stats.heapSizeLimit,
    external: stats.externalMemory,
    young,
  };
}

/** The collections of a `v8.GCProfiler` result, as records. */
export function gcRecordsFromProfile(profile: Pick<v8.GCProfilerResult, 'statistics'>): GcRecord[] {
  return profile.statistics.map((entry) => ({
    type: entry.gcType,
    cost: entry.cost,
    before: profileHeapSample(entry.beforeGC),
    after: profileHeapSample(entry.afterGC),
  }));
}

/** The heap now, from `v8.getHeapStatistics()` (young generation not included: 0). */
export function currentHeapSample(): HeapSample {
  const stats = v8.getHeapStatistics();
  return {
    used: stats.used_heap_size,
    committed: stats.total_heap_size,
    limit: stats.heap_size_limit,
    external: stats.external_memory,
    young: 0,
  };
}

/**
 * `v8.GCProfiler` in windows: a profiler records every collection; performance `gc` entries say
 * collections happened, and the window is then closed (its records taken) and a new one opened, at
 * most once per `window` ms (later collections wait in the profiler for the next window, closed by
 * an unref'd timer). So the cost is a few heap statistics per collection, which V8 gathers in
 * microseconds, plus one harvest per window (docs/sources/v8.md); nothing runs while the heap is quiet, and
 * no timer is armed then.
 *
 * A collection that happens while the window is being swapped (in the JSON parse of `stop()`) is
 * not recorded; the headroom of the next batch still sees its effect.
 */
export class ProfilerGcRecorder implements GcRecorder {
  readonly kind = 'gc-profiler';
  private profiler: v8.GCProfiler | undefined;
  private observer: PerformanceObserver | undefined;
  private timer: NodeJS.Timeout | undefined;
  private harvestedAt = -Infinity;

  /** @param window Minimum milliseconds between two harvests. */
  constructor(private readonly window = 100) {}

  start(onBatch: (batch: GcBatch) => void, onError: (error: unknown) => void): void {
    if (this.observer) return;
    this.profiler = new v8.GCProfiler();
    this.profiler.start();
    const harvest = () => {
      this.timer = undefined;
      const profiler = this.profiler;
      if (!profiler) return;
      this.harvestedAt = performance.now();
      try {
        let profile: v8.GCProfilerResult;
        try {
          profile = profiler.stop();
        } finally {
          // Open the next window at once, whatever happened to this one.
          profiler.start();
        }
        const records = gcRecordsFromProfile(profile);
        if (records.length > 0) onBatch({ records, heap: records[records.length - 1].after });
      } catch (error) {
        onError(error);
      }
    };
    this.observer = new PerformanceObserver(() => {
      if (this.timer) return;
      const wait = this.harvestedAt + this.window - performance.now();
      if (wait <= 0) harvest();
      else this.timer = setTimeout(harvest, wait).unref();
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.observer?.disconnect();
    this.observer = undefined;
    this.profiler?.stop();
    this.profiler = undefined;
  }
}

/** Performance `gc` entries and the heap statistics after them: headroom only, for runtimes without GCProfiler. */
export class HeapStatisticsGcRecorder implements GcRecorder {
  readonly kind = 'heap-statistics';
  private observer: PerformanceObserver | undefined;

  start(onBatch: (batch: GcBatch) => void, onError: (error: unknown) => void): void {
    if (this.observer) return;
    this.observer = new PerformanceObserver(() => {
      try {
        onBatch({ records: [], heap: currentHeapSample() });
      } catch (error) {
        onError(error);
      }
    });
    this.observer.observe({ entryTypes: ['gc'] });
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }
}
