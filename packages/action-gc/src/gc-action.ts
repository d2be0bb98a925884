import {
  formatBytes,
  obtainGc,
  runContextOf,
  type ActionContext,
  type DetailedActionResult,
  type GcAvailability,
  type SheddingAction,
} from '@memshed/core';
import { mallocTrim, type MallocTrimResult } from '@memshed/native';
import { injectable } from 'inversify';
import { performance } from 'node:perf_hooks';
import type { GcOptions } from './gc-options';
import {
  cgroupUsageFileAt,
  ownCgroupUsageFile,
  sampleMemory,
  type CgroupUsageFile,
  type MemorySample,
} from './memory-sample';

/**
 * When the last collection ran, shared by every gc action of a container: garbage collection is
 * process-wide, so the rate limit is too.
 */
@injectable()
export class GcGate {
  /** Scheduler time of the last run that collected, -Infinity before the first. */
  lastRunAt = -Infinity;
}

/** What the gc action calls; tests replace them. */
export interface GcEnvironment {
  /** V8's gc(), obtained at run time when not exposed. */
  obtainGc(): GcAvailability;
  /** glibc malloc_trim(0). */
  mallocTrim(): MallocTrimResult;
  /** The process's memory, and the cgroup's usage when a file is given. */
  sample(cgroup: CgroupUsageFile | undefined): MemorySample;
}

const realEnvironment: GcEnvironment = { obtainGc, mallocTrim, sample: sampleMemory };

/**
 * Gives freed memory back to the kernel, not only to V8 (shared/KERNEL.md, "Returning memory to
 * the kernel from Node"): after a purge, one `gc()` leaves Buffers' backing stores with V8's
 * concurrent sweeper and then with glibc, and the cgroup's usage does not move for seconds. So
 * this action runs full collections (at least `minCollections`, the second completing the
 * sweeping of the first; more while a collection still finds new garbage in the heap; at most
 * `maxCollections`), then glibc's `malloc_trim(0)` through the native addon (a no-op with a
 * reason elsewhere), and records the heap, RSS and cgroup usage before and after. Runs are
 * rate-limited per container.
 */
export class GcAction implements SheddingAction {
  /** The plugin id. */
  readonly id = 'gc';
  private cgroup: CgroupUsageFile | undefined | null = null;

  constructor(
    /** Validated options. */
    readonly options: GcOptions,
    private readonly gate: GcGate = new GcGate(),
    private readonly environment: GcEnvironment = realEnvironment,
  ) {}

  async run(input: ActionContext): Promise<DetailedActionResult> {
    const context = runContextOf(input);
    const now = context.scheduler.now();
    const since = now - this.gate.lastRunAt;
    if (since < this.options.minInterval) {
      return {
        summary: `skipped: the last collection was ${since} ms ago (minInterval ${this.options.minInterval} ms)`,
        details: { rateLimited: true },
      };
    }
    const cgroup = this.cgroupFile();
    const plan = `${this.options.minCollections}-${this.options.maxCollections} full collections${this.options.trim ? ' and malloc_trim(0)' : ''}`;
    if (context.dryRun) {
      return { summary: `would run ${plan}`, details: { before: this.environment.sample(cgroup) } };
    }
    if (context.signal.aborted) return { summary: 'cancelled before collecting' };
    this.gate.lastRunAt = now;

    const begin = performance.now();
    const before = this.environment.sample(cgroup);
    const gc = this.environment.obtainGc();
    const collections: { heapFreed: number; externalFreed: number; ms: number }[] = [];
    if (gc.available) {
      let last = before;
      for (let i = 0; i < this.options.maxCollections; i++) {
        const start = performance.now();
        gc.gc();
        const sample = this.environment.sample(undefined);
        const heapFreed = last.heapUsed - sample.heapUsed;
        collections.push({
          heapFreed,
          externalFreed: last.external - sample.external,
          ms: round(performance.now() - start),
        });
        last = sample;
        // Only garbage a collection newly finds in the heap can leave backing stores (Buffers) for
        // the concurrent sweeper, which the next collection completes; external memory freed now
        // is the previous collection's. So collect again while the heap still gave up
        // settleBytes, after the minimum (the first collection's Buffers always need a second).
        if (collections.length >= this.options.minCollections && heapFreed < this.options.settleBytes) break;
      }
    } else {
      context.report(new Error(gc.reason), 'gc: cannot collect garbage, trimming only');
    }
    const collected = performance.now();
    const trim: MallocTrimResult | undefined = this.options.trim ? this.environment.mallocTrim() : undefined;
    const trimmed = performance.now();
    const after = this.environment.sample(cgroup);
    const returned = Math.max(0, before.rss - after.rss);
    const v8Freed = before.heapUsed + before.external - (after.heapUsed + after.external);
    const cgroupFreed =
      before.cgroup !== undefined && after.cgroup !== undefined ? before.cgroup - after.cgroup : undefined;

    const parts = [
      gc.available
        ? `${collections.length} full collection(s) freed ${formatBytes(Math.max(0, v8Freed))} in V8`
        : 'no gc()',
      trim ? trimText(trim) : 'malloc_trim off',
      `RSS -${formatBytes(returned)}`,
    ];
    if (cgroupFreed !== undefined)
      parts.push(`cgroup usage ${cgroupFreed >= 0 ? '-' : '+'}${formatBytes(Math.abs(cgroupFreed))}`);
    return {
      freedBytes: returned,
      estimated: false,
      summary: parts.join(', '),
      details: {
        gc: gc.available ? { via: gc.via, collections } : { unavailable: gc.reason },
        mallocTrim: trim ?? 'off',
        before,
        after,
        ...(cgroup ? { cgroup: cgroup.file } : {}),
        ms: {
          collect: round(collected - begin),
          trim: round(trimmed - collected),
          total: round(performance.now() - begin),
        },
      },
    };
  }

  private cgroupFile(): CgroupUsageFile | undefined {
    if (this.cgroup === null) {
      const where = this.options.cgroup;
      this.cgroup =
        where === 'none' ? undefined : where === 'self' ? ownCgroupUsageFile() : cgroupUsageFileAt(where);
    }
    return this.cgroup;
  }
}

function trimText(trim: MallocTrimResult): string {
  if (!trim.available) return `malloc_trim unavailable (${trim.reason ?? 'unknown reason'})`;
  return trim.released ? 'malloc_trim released memory' : 'malloc_trim had nothing to release';
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
