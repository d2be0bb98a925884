import { MemshedError, loopScheduler } from '@memshed/core';
import {
  PriorityRegistry,
  registryOf,
  type PriorityRegistration,
  type ShedPriority,
} from '@memshed/shed-priority';
import { injectable, type Container } from '@memshed/core/inversify';
import type { SchedulerLike } from 'rxjs';
import { toPurgeable, type AdapterOptions, type LruCacheLike } from './cache-adapters';
import type { CacheSize, Purgeable, PurgeReport } from './purgeable';

/** How a cache is registered. */
export interface CacheRegistrationOptions<K = unknown, V = unknown> extends AdapterOptions<K, V> {
  /** How much the cache matters; lower priorities are purged first and at lower levels. Default `normal`. */
  readonly priority?: ShedPriority;
  /** Labels a policy can select caches by (`with: { tags: [...] }`). */
  readonly tags?: readonly string[];
  /** Never purge this cache, whatever the level. */
  readonly keep?: boolean;
}

/** A registered cache, as listed by the registry. */
export interface RegisteredCache {
  /** Its unique name. */
  readonly name: string;
  /** Its priority. */
  readonly priority: ShedPriority;
  /** Its tags. */
  readonly tags: readonly string[];
  /** Whether it is exempt from purges. */
  readonly keep: boolean;
  /** The cache as memshed purges it. */
  readonly purgeable: Purgeable;
}

/** Undoes a registration: `dispose()` unregisters the cache (only this registration; idempotent). */
export type CacheRegistration = PriorityRegistration;

/** Which caches to purge and how much. */
export interface PurgePlan {
  /** Fraction of each cache's entries to drop, coldest first: 0 nothing, 1 clear. */
  readonly fraction: number;
  /** Purge caches of this priority and below. */
  readonly upTo: ShedPriority;
  /** When not empty, only caches with at least one of these tags. */
  readonly tags?: readonly string[];
  /** Stop purging further caches once this many bytes (known sizes) were dropped. */
  readonly enough?: number;
}

/** How a purge runs. */
export interface PurgeRunOptions {
  /** Cancels the purge: no further cache is started, pending flushes are given up (dirty entries kept). */
  readonly signal: AbortSignal;
  /** Milliseconds a cache's flush may take before its dirty entries are kept. */
  readonly flushTimeout: number;
  /** Timer for the flush timeout. Default: the loop scheduler. */
  readonly scheduler?: SchedulerLike;
}

/** What a purge did (or, for a preview, would do) to one cache. */
export interface CachePurgeReport {
  /** The cache's name. */
  readonly name: string;
  /** The cache's priority. */
  readonly priority: ShedPriority;
  /** `trim` (a fraction of the coldest entries) or `clear`. */
  readonly operation: 'trim' | 'clear';
  /** The fraction asked for. */
  readonly fraction: number;
  /** Entries dropped. */
  readonly entries: number;
  /** Bytes dropped, when known. */
  readonly bytes?: number;
  /** Whether every dropped value had a known size. */
  readonly bytesComplete: boolean;
  /** Dirty entries kept because their flush failed. */
  readonly kept: number;
  /** Why entries were kept, or why the cache failed to purge. */
  readonly error?: MemshedError;
  /** Why it was not purged: `busy` (another purge holds it), `cancelled`, `enough` (the target was met). */
  readonly skipped?: 'busy' | 'cancelled' | 'enough';
}

/** What a purge did over all caches. */
export interface PurgeSummary {
  /** Per cache, in purge order. */
  readonly caches: readonly CachePurgeReport[];
  /** Entries dropped. */
  readonly entries: number;
  /** Bytes dropped (sum of known sizes). */
  readonly bytes: number;
  /** Whether every dropped value had a known size (else `bytes` is a lower bound). */
  readonly bytesComplete: boolean;
  /** Dirty entries kept. */
  readonly kept: number;
}

interface Entry extends RegisteredCache {
  busy: boolean;
}

/**
 * The caches an application lets memshed purge. Register them at run time; the cache-purge
 * action purges them by priority (lowest first) and level.
 *
 * Bound as a singleton by the cache-purge module: `memshed.container.get(CacheRegistry)`.
 *
 * @example
 * const sessions = new LRUCache<string, Buffer>({ max: 10_000 });
 * registry.register('sessions', sessions, { priority: 'low', tags: ['http'] });
 */
@injectable()
export class CacheRegistry {
  private readonly caches = new PriorityRegistry<Entry>({
    noun: 'cache',
    registerFix: "register it as registry.register('sessions', cache)",
  });

  /**
   * Registers `cache` under `name`: a Map, an lru-cache (v10 or v11) or any {@link Purgeable}.
   *
   * @throws MemshedError `invalid-argument` when the name is taken, the priority unknown or the
   * cache not recognised.
   */
  register<K, V>(
    name: string,
    cache: Purgeable | Map<K, V> | LruCacheLike<K, V>,
    options: CacheRegistrationOptions<K, V> = {},
  ): CacheRegistration {
    return this.caches.add(name, options.priority, (priority) => ({
      name,
      priority,
      tags: Object.freeze([...(options.tags ?? [])]),
      keep: options.keep ?? false,
      purgeable: toPurgeable(cache, { sizeOf: options.sizeOf, writeBack: options.writeBack }, name),
      busy: false,
    }));
  }

  /** Unregisters the cache named `name`; false when there was none. */
  unregister(name: string): boolean {
    return this.caches.delete(name);
  }

  /** The cache registered as `name`. */
  get(name: string): RegisteredCache | undefined {
    return this.caches.get(name);
  }

  /** Every registered cache, in purge order: lowest priority first, then registration order. */
  list(): readonly RegisteredCache[] {
    return this.caches.list();
  }

  /** The caches a plan selects, in purge order. */
  select(plan: Pick<PurgePlan, 'upTo' | 'tags'>): readonly RegisteredCache[] {
    const tags = plan.tags ?? [];
    return this.caches
      .listBelow(plan.upTo, { inclusive: true })
      .filter((cache) => !cache.keep && (tags.length === 0 || cache.tags.some((tag) => tags.includes(tag))));
  }

  /** What {@link purge} would drop, from the caches' current sizes, without touching them. */
  preview(plan: PurgePlan): PurgeSummary {
    const fraction = clampFraction(plan.fraction);
    const reports: CachePurgeReport[] = [];
    let bytes = 0;
    for (const cache of this.select(plan)) {
      const base = reportBase(cache, fraction);
      if (plan.enough !== undefined && bytes >= plan.enough) {
        reports.push({ ...base, skipped: 'enough' });
        continue;
      }
      let size: CacheSize;
      try {
        size = cache.purgeable.size();
      } catch (error) {
        reports.push({ ...base, error: cacheError(cache.name, error, 'could not tell its size') });
        continue;
      }
      const entries = fraction >= 1 ? size.entries : Math.ceil(size.entries * fraction);
      const report: CachePurgeReport = {
        ...base,
        entries,
        ...(size.bytes === undefined
          ? { bytesComplete: false }
          : { bytes: Math.round(size.bytes * fraction) }),
      };
      bytes += report.bytes ?? 0;
      reports.push(report);
    }
    return summarize(reports);
  }

  /**
   * Purges the caches the plan selects, lowest priority first, one at a time: each drops the
   * plan's fraction of its coldest entries (all of them at fraction 1), flushing dirty entries of
   * write-back caches first (up to `flushTimeout`) and keeping those whose flush fails. A cache
   * that is already being purged is skipped. Failures are in the reports; this never rejects.
   */
  async purge(plan: PurgePlan, options: PurgeRunOptions): Promise<PurgeSummary> {
    const fraction = clampFraction(plan.fraction);
    const reports: CachePurgeReport[] = [];
    if (fraction === 0) return summarize(reports);
    let bytes = 0;
    for (const cache of this.select(plan) as Entry[]) {
      const base = reportBase(cache, fraction);
      if (options.signal.aborted) {
        reports.push({ ...base, skipped: 'cancelled' });
        continue;
      }
      if (plan.enough !== undefined && bytes >= plan.enough) {
        reports.push({ ...base, skipped: 'enough' });
        continue;
      }
      if (cache.busy) {
        reports.push({ ...base, skipped: 'busy' });
        continue;
      }
      const report = await this.purgeOne(cache, fraction, base, options);
      bytes += report.bytes ?? 0;
      reports.push(report);
    }
    return summarize(reports);
  }

  private async purgeOne(
    cache: Entry,
    fraction: number,
    base: CachePurgeReport,
    options: PurgeRunOptions,
  ): Promise<CachePurgeReport> {
    cache.busy = true;
    const deadline = new AbortController();
    const onAbort = () => deadline.abort(options.signal.reason);
    options.signal.addEventListener('abort', onAbort, { once: true });
    const timer = (options.scheduler ?? loopScheduler).schedule(
      () =>
        deadline.abort(
          new MemshedError(
            'timeout',
            `Cache '${cache.name}': flush did not finish within ${options.flushTimeout} ms; its dirty entries were kept`,
            { fix: 'raise flushTimeout, or make the flush faster', context: { cache: cache.name } },
          ),
        ),
      options.flushTimeout,
    );
    let outcome: PurgeReport;
    try {
      outcome = await (fraction >= 1
        ? cache.purgeable.clear({ signal: deadline.signal })
        : cache.purgeable.trim(fraction, { signal: deadline.signal }));
    } catch (error) {
      return { ...base, error: cacheError(cache.name, error, 'failed to purge') };
    } finally {
      timer.unsubscribe();
      options.signal.removeEventListener('abort', onAbort);
      cache.busy = false;
    }
    const kept = count(outcome?.kept);
    // Entries kept because a newer write arrived during the flush are not a failure: they are dirty again.
    const error =
      outcome?.error === undefined
        ? undefined
        : cacheError(cache.name, outcome.error, `kept ${kept} dirty entries`);
    return {
      ...base,
      entries: count(outcome?.entries),
      ...(typeof outcome?.bytes === 'number' ? { bytes: outcome.bytes } : {}),
      bytesComplete: typeof outcome?.bytes === 'number' && outcome.bytesComplete !== false,
      kept,
      ...(error ? { error } : {}),
    };
  }
}

function clampFraction(fraction: number): number {
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new MemshedError('invalid-argument', `A purge fraction must be between 0 and 1, got ${fraction}`);
  }
  return fraction;
}

function reportBase(cache: RegisteredCache, fraction: number): CachePurgeReport {
  return {
    name: cache.name,
    priority: cache.priority,
    operation: fraction >= 1 ? 'clear' : 'trim',
    fraction,
    entries: 0,
    bytesComplete: true,
    kept: 0,
  };
}

function cacheError(name: string, error: unknown, what: string): MemshedError {
  return MemshedError.from(error, 'action-failed', `Cache '${name}' ${what}`, { context: { cache: name } });
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

function summarize(reports: CachePurgeReport[]): PurgeSummary {
  let entries = 0;
  let bytes = 0;
  let kept = 0;
  let bytesComplete = true;
  for (const report of reports) {
    entries += report.entries;
    bytes += report.bytes ?? 0;
    kept += report.kept;
    if (report.entries > 0 && !report.bytesComplete) bytesComplete = false;
  }
  return { caches: reports, entries, bytes, bytesComplete, kept };
}

/**
 * The cache registry of a running memshed (or of any container the cache-purge module was loaded
 * into): `cachesOf(memshed).register('sessions', cache, { priority: 'low' })`.
 *
 * @throws MemshedError `unavailable` when the cache-purge module is not loaded.
 */
export function cachesOf(owner: { readonly container: Container } | Container): CacheRegistry {
  return registryOf(owner, {
    registry: CacheRegistry,
    noun: 'cache',
    moduleId: 'cache-purge',
    moduleExport: 'cachePurgeModule',
  });
}
