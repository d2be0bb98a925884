import type { PressureLevel } from '@memshed/core';

/** The page size reclaim is counted in: the engine's window of 512 pages is 2 MiB, as in the kernel. */
export const PAGE_SIZE = 4096;

/** The V8 heap at one instant, in bytes. */
export interface HeapSample {
  /** Bytes of objects in the heap, live or not yet collected (`used_heap_size`). */
  readonly used: number;
  /**
   * Bytes committed to the heap (`total_heap_size`): what V8 checks against its limit, and what
   * decides a "heap out of memory" crash (docs/kernel.md), so headroom is judged by it rather
   * than by `used`.
   */
  readonly committed: number;
  /** The heap's limit (`heap_size_limit`): sized by Node from the cgroup limit (half, floor ~259 MB). */
  readonly limit: number;
  /** Bytes held outside the heap by JS objects: Buffers, ArrayBuffers (`external_memory`). */
  readonly external: number;
  /** Bytes in use in the young generation (new space and new large-object space). */
  readonly young: number;
}

/** One garbage collection: its kind, and the heap just before and just after it. */
export interface GcRecord {
  /** V8's name of the collection: `Scavenge`, `MinorMarkSweep`, `MarkSweepCompact`, ... */
  readonly type: string;
  /** Its duration in microseconds. */
  readonly cost: number;
  /** The heap when it started. */
  readonly before: HeapSample;
  /** The heap when it ended. */
  readonly after: HeapSample;
}

/** Collections of the young generation: they examine the new space only. */
const YOUNG_COLLECTIONS = new Set(['Scavenge', 'MinorMarkSweep', 'MinorMarkCompact']);
/** Collections of the whole heap: they examine every object in it. */
const FULL_COLLECTIONS = new Set(['MarkSweepCompact']);

/** Pages examined and freed by one collection: the inputs of `account(scanned, reclaimed)`. */
export interface ReclaimPass {
  /** Pages examined. */
  readonly scanned: number;
  /** Pages freed, never more than `scanned`. */
  readonly reclaimed: number;
}

/**
 * What one garbage collection says as a reclaim pass: the bytes it examined (the young
 * generation for a scavenge, the whole heap for a mark-sweep) and the bytes it freed (the fall of
 * `used_heap_size`, so that objects promoted by a scavenge count as not freed), in pages.
 *
 * Steps of a collection that are not collections themselves (`IncrementalMarking`,
 * `ProcessWeakCallbacks`) free nothing by design and return undefined, as do collections that
 * examined nothing: the engine keeps calm on `scanned == 0` anyway.
 */
export function reclaimPass(record: GcRecord): ReclaimPass | undefined {
  let examined: number;
  if (YOUNG_COLLECTIONS.has(record.type)) examined = record.before.young;
  else if (FULL_COLLECTIONS.has(record.type)) examined = record.before.used;
  else return undefined;
  const scanned = Math.ceil(examined / PAGE_SIZE);
  if (!(scanned > 0)) return undefined;
  // Allocation during concurrent phases can make `used` grow across a collection: nothing was freed.
  const freed = Math.max(0, record.before.used - record.after.used);
  return { scanned, reclaimed: Math.min(scanned, Math.floor(freed / PAGE_SIZE)) };
}

/** Thresholds of the heap's headroom, as fractions (0-1] of the heap limit committed. */
export interface HeadroomThresholds {
  /** Optional: signal `low` from here. */
  readonly low?: number;
  /** Signal `medium` from here. */
  readonly medium: number;
  /** Signal `critical` from here. */
  readonly critical: number;
  /** Judge `external` against this many bytes with the same fractions (off when undefined). */
  readonly externalLimit?: number;
}

/**
 * The level the heap's headroom calls for, or undefined when it is below every threshold: the
 * committed heap against `heap_size_limit` and, when an external limit is set, external memory
 * against it; the higher of the two.
 */
export function headroomLevel(heap: HeapSample, thresholds: HeadroomThresholds): PressureLevel | undefined {
  let fraction = heap.limit > 0 ? heap.committed / heap.limit : 0;
  if (thresholds.externalLimit !== undefined && thresholds.externalLimit > 0) {
    fraction = Math.max(fraction, heap.external / thresholds.externalLimit);
  }
  if (fraction >= thresholds.critical) return 'critical';
  if (fraction >= thresholds.medium) return 'medium';
  if (thresholds.low !== undefined && fraction >= thresholds.low) return 'low';
  return undefined;
}
