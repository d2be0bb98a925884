import { formatBytes, type ActionContext, type ActionResult, type SheddingAction } from '@memshed/core';
import { mallocTrim, obtainGc, type GcAvailability, type MallocTrimResult } from '@memshed/native';
import { injectable } from '@memshed/core/inversify';
import { performance } from 'node:perf_hooks';
import type { GcOptions } from './gc-options';
import {
  cgroupUsageFileAt,
  ownCgroupUsageFile,
  sampleMemory,
  type CgroupUsageFile,
  type MemorySample,
} from './memory-sample';
import { synchronousSweeping, type SweepingControl } from './synchronous-sweeping';

/**
 * When the last collection ran, shared by every gc action of a container: garbage collection is
 * process-wide, so the rate limit is too.
 */
@injectable()
export class GcGate {
  /** Scheduler time of the last run that collected, -Infinity before the first. */
  lastRunAt = -Infinity;
  /** How long the last run that collected took, ms (the environment's clock). */
  lastRunMs = 0;
}

/**
 * Where the gc action's collections, trims and samples come from. Bind it in the container to
 * replace them (the simulator collects and samples a simulated application); unbound, the action
 * uses the process's own.
 */
export const GcEnvironment = Symbol('GcEnvironment');
/** What the gc action calls: the process's own by default, a simulated app's or a test's otherwise. */
export interface GcEnvironment {
  /** V8's gc(), obtained at run time when not exposed. */
  obtainGc(): GcAvailability;
  /** glibc malloc_trim(0). */
  mallocTrim(): MallocTrimResult;
  /** The process's memory, and the cgroup's usage when a file is given. */
  sample(cgroup: CgroupUsageFile | undefined): MemorySample;
  /** Whether V8 can be made to sweep synchronously during the collections. */
  sweeping(): SweepingControl;
  /**
   * Whether V8 keeps the pages a collection empties in a pool, mapped and charged to the cgroup,
   * until a memory-reducing collection, so that the action must run one. Absent: it does not.
   */
  poolsFreedPages?(): boolean;
  /** The clock that times the collections, ms. Absent: `performance.now()`. */
  now?(): number;
}

/**
 * V8 12 and later (Node 22 on) release an emptied old-generation page into a pool "cached until
 * memory reducing GC" (heap/memory-allocator.cc, MemoryAllocator::Free with FreeMode::kPool); only
 * a memory-reducing collection unmaps the pool, and V8's own memory reducer runs one seconds later.
 * V8 11 (Node 20) unmaps them from a background job right after the collection.
 */
const V8_POOLS_FREED_PAGES = Number(process.versions.v8.split('.')[0]) >= 12;

const realEnvironment: GcEnvironment = {
  obtainGc,
  mallocTrim,
  sample: sampleMemory,
  sweeping: () => synchronousSweeping(),
  poolsFreedPages: () => V8_POOLS_FREED_PAGES,
};

/**
 * Gives freed memory back to the kernel, not only to V8 (docs/actions/gc.md): after a purge, one
 * plain `gc()` leaves Buffers' backing stores with V8's concurrent sweeper and then with glibc,
 * and V8's emptied heap pages with its background unmapper, and the cgroup's usage does not move
 * for a long while. So this action runs full collections with V8 sweeping synchronously (so that
 * the collection itself frees the stores and unmaps the pages; concurrent sweeping needs a second
 * collection to complete the first), then glibc's `malloc_trim(0)` through the native addon (a
 * no-op with a reason elsewhere), then, where V8 pools the pages it empties (V8 12 and later), one
 * memory-reducing collection that unmaps them; then, with the memory already back, more collections while the last
 * one still found new garbage in the heap (at most `maxCollections`, trimming again if they freed
 * backing stores); and records the heap, RSS and cgroup usage before and after. Runs are
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

  async run(context: ActionContext): Promise<ActionResult> {
    // The rate limit: wait for the gate when it opens within maxWait (the purge before this action
    // has just made garbage that only a collection gives back), else skip.
    let waited = 0;
    for (;;) {
      const opensIn = this.opensIn(context.scheduler.now());
      if (opensIn <= 0) break;
      if (context.dryRun || waited + opensIn > this.options.maxWait)
        return this.skipped(context.scheduler.now());
      if (!(await delay(context, opensIn))) {
        return {
          freedBytes: 0,
          estimated: false,
          summary: `cancelled while waiting ${waited} ms for the rate limit`,
        };
      }
      waited += opensIn;
    }
    const now = context.scheduler.now();
    const cgroup = this.cgroupFile();
    const sweeping: SweepingControl =
      this.options.sweep === 'synchronous'
        ? this.environment.sweeping()
        : { available: false, reason: 'sweep: concurrent' };
    // The default minimum never exceeds a maxCollections the user lowered (maxCollections: 1).
    const minCollections =
      this.options.minCollections ?? Math.min(sweeping.available ? 1 : 2, this.options.maxCollections);
    const plan = `${minCollections}-${this.options.maxCollections} full collections${sweeping.available ? ' with synchronous sweeping' : ''}${this.options.trim ? ' and malloc_trim(0)' : ''}`;
    if (context.dryRun) {
      return { summary: `would run ${plan}`, details: { before: this.environment.sample(cgroup) } };
    }
    if (context.signal.aborted)
      return { freedBytes: 0, estimated: false, summary: 'cancelled before collecting' };
    this.gate.lastRunAt = now;

    const clock = this.environment.now ? () => this.environment.now!() : () => performance.now();
    const begin = clock();
    const before = this.environment.sample(cgroup);
    const gc = this.environment.obtainGc();
    const collections: { heapFreed: number; externalFreed: number; ms: number }[] = [];
    const spent = { collect: 0, trim: 0 };
    let last = before;
    /** One full collection, measured; returns it. */
    const collectOnce = (collectGarbage: () => void) => {
      const start = clock();
      if (sweeping.available) sweeping.run(collectGarbage);
      else collectGarbage();
      const sample = this.environment.sample(undefined);
      const collection = {
        heapFreed: last.heapUsed - sample.heapUsed,
        externalFreed: last.external - sample.external,
        ms: round(clock() - start),
      };
      collections.push(collection);
      spent.collect += collection.ms;
      last = sample;
      return collection;
    };
    const trims: MallocTrimResult[] = [];
    const trimOnce = () => {
      if (!this.options.trim) return;
      const start = clock();
      trims.push(this.environment.mallocTrim());
      spent.trim += clock() - start;
    };

    let releasedAt: number;
    const pools = this.environment.poolsFreedPages?.() ?? false;
    let poolRelease = pools ? 'not run: no gc()' : 'not needed: V8 unmaps freed pages itself';
    if (gc.available) {
      // First what the purge freed, back to the kernel as soon as possible: the minimum of
      // collections, then malloc_trim for the backing stores they handed to glibc.
      let latest = collectOnce(() => gc.gc());
      while (collections.length < minCollections) latest = collectOnce(() => gc.gc());
      trimOnce();
      // Then V8's own heap pages, where V8 pools them: one memory-reducing collection unmaps the
      // pool (about a thousand 256 KiB pages for a 256 MiB cache of strings) on this thread.
      if (pools && collections.length < this.options.maxCollections) {
        latest = collectOnce(() => gc.gc({ type: 'major', execution: 'sync', flavor: 'last-resort' }));
        poolRelease = 'memory-reducing collection';
      } else if (pools) {
        poolRelease = 'skipped: maxCollections reached';
      }
      releasedAt = clock();
      // Then what that garbage was holding: objects only it referenced, native objects whose
      // weak callbacks ran, and with concurrent sweeping Buffers the sweeper had not reached.
      // Collect again while the last collection still found settleBytes in the heap, and trim
      // again if those collections freed settleBytes of backing stores.
      let external = 0;
      while (
        collections.length < this.options.maxCollections &&
        latest.heapFreed >= this.options.settleBytes
      ) {
        latest = collectOnce(() => gc.gc());
        external += latest.externalFreed;
      }
      if (external >= this.options.settleBytes) trimOnce();
    } else {
      context.report(new Error(gc.reason), 'gc: cannot collect garbage, trimming only');
      trimOnce();
      releasedAt = clock();
    }
    const trim = trims[0];
    const after = this.environment.sample(cgroup);
    const total = round(clock() - begin);
    // What the time share is measured against: the whole run, collections, trims and samples.
    this.gate.lastRunMs = total;
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
    if (waited > 0) parts.unshift(`after waiting ${round(waited)} ms for the rate limit`);
    if (cgroupFreed !== undefined)
      parts.push(`cgroup usage ${cgroupFreed >= 0 ? '-' : '+'}${formatBytes(Math.abs(cgroupFreed))}`);
    return {
      freedBytes: returned,
      estimated: false,
      summary: parts.join(', '),
      details: {
        gc: gc.available ? { via: gc.via, collections } : { unavailable: gc.reason },
        sweeping: sweeping.available ? 'synchronous' : `concurrent (${sweeping.reason})`,
        poolRelease,
        mallocTrim: trim ?? 'off',
        ...(trims.length > 1 ? { trims: trims.length } : {}),
        before,
        after,
        ...(cgroup ? { cgroup: cgroup.file } : {}),
        ...(waited > 0 ? { waitedMs: round(waited) } : {}),
        ms: {
          collect: round(spent.collect),
          trim: round(spent.trim),
          released: round(releasedAt - begin),
          total,
        },
      },
    };
  }

  /** ms until the rate limit lets a run collect at `now` (0 or less: it does now). */
  private opensIn(now: number): number {
    // The last run may start the next one once minInterval has passed and its own duration is at
    // most maxTimeShare of the time since it started.
    const { minInterval, maxTimeShare } = this.options;
    return this.gate.lastRunAt + Math.max(minInterval, this.gate.lastRunMs / maxTimeShare) - now;
  }

  /** The result of a run the rate limit stops. */
  private skipped(now: number): ActionResult {
    const { minInterval, maxWait, maxTimeShare } = this.options;
    const since = now - this.gate.lastRunAt;
    const lastMs = round(this.gate.lastRunMs);
    const why =
      since < minInterval
        ? `minInterval ${minInterval} ms`
        : `it took ${lastMs} ms; maxTimeShare ${maxTimeShare}: collections take at most ${round(maxTimeShare * 100)}% of the time`;
    return {
      freedBytes: 0,
      estimated: false,
      summary: `skipped: the last collection was ${since} ms ago (${why}), and the limit opens in ${round(this.opensIn(now))} ms, later than maxWait ${maxWait} ms`,
      details: { rateLimited: true },
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

/** Waits `ms` on the context's scheduler; false when the run was aborted meanwhile. */
function delay(context: ActionContext, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (context.signal.aborted) return resolve(false);
    const onAbort = () => {
      subscription.unsubscribe();
      resolve(false);
    };
    const subscription = context.scheduler.schedule(() => {
      context.signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    context.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
