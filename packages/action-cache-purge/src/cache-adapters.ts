import { MemshedError } from '@memshed/core';
import {
  estimateBytes,
  type CacheSize,
  type Purgeable,
  type PurgeOptions,
  type PurgeReport,
  type WriteBack,
} from './purgeable';

/**
 * The part of lru-cache (v10 and v11) memshed uses. `rkeys()` yields keys from the least to the
 * most recently used; `peek()` reads without refreshing recency.
 */
export interface LruCacheLike<K, V> {
  readonly size: number;
  rkeys(): Iterable<K>;
  peek(key: K): V | undefined;
  delete(key: K): boolean;
  /** Every entry; with clear(), lets a full purge drop everything in one call. */
  entries?(): Iterable<[K, V]>;
  clear?(): void;
}

/** How the built-in adapters size and flush entries. */
export interface AdapterOptions<K, V> {
  /** Bytes of one entry, or undefined when unknown. Default {@link estimateBytes} of the value. */
  readonly sizeOf?: (value: V, key: K) => number | undefined;
  /** Makes the cache write-back: dirty entries are flushed before they are dropped. */
  readonly writeBack?: WriteBack<K, V>;
}

/** Whether `value` implements {@link Purgeable}. */
export function isPurgeable(value: unknown): value is Purgeable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Purgeable).size === 'function' &&
    typeof (value as Purgeable).trim === 'function' &&
    typeof (value as Purgeable).clear === 'function'
  );
}

/** Whether `value` looks like an lru-cache instance (v10/v11: `rkeys`, `peek`, `delete`, `size`). */
export function isLruCacheLike(value: unknown): value is LruCacheLike<unknown, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as LruCacheLike<unknown, unknown>).rkeys === 'function' &&
    typeof (value as LruCacheLike<unknown, unknown>).peek === 'function' &&
    typeof (value as LruCacheLike<unknown, unknown>).delete === 'function' &&
    typeof (value as LruCacheLike<unknown, unknown>).size === 'number'
  );
}

/** The cache operations the adapters share, over a Map or an lru-cache. */
interface Entries<K, V> {
  readonly size: number;
  /** Keys, coldest first. */
  coldest(): Iterable<K>;
  peek(key: K): V | undefined;
  has(key: K): boolean;
  delete(key: K): boolean;
  /** Every entry and a way to drop them all in one call, when the cache has both. */
  readonly all?: { entries(): Iterable<[K, V]>; clear(): void };
}

/**
 * A {@link Purgeable} over keyed entries: drops the coldest first and, for write-back caches,
 * flushes dirty victims before dropping them (and keeps them when the flush fails).
 */
class EntriesPurgeable<K, V> implements Purgeable {
  constructor(
    private readonly entries: Entries<K, V>,
    private readonly options: AdapterOptions<K, V>,
  ) {}

  size(): CacheSize {
    let bytes = 0;
    for (const key of this.entries.coldest()) {
      const size = this.sizeOf(key);
      if (size === undefined) return { entries: this.entries.size };
      bytes += size;
    }
    return { entries: this.entries.size, bytes };
  }

  trim(fraction: number, options: PurgeOptions): Promise<PurgeReport> {
    if (fraction >= 1) return this.drop([...this.entries.coldest()], options);
    if (!(fraction > 0)) return this.drop([], options);
    // The coldest entries holding `fraction` of the bytes, when every entry's size is known.
    const sized: [K, number][] = [];
    let total = 0;
    for (const key of this.entries.coldest()) {
      const size = this.sizeOf(key);
      if (size === undefined)
        return this.drop(this.coldestEntries(Math.ceil(this.entries.size * fraction)), options);
      sized.push([key, size]);
      total += size;
    }
    if (total === 0) return this.drop(this.coldestEntries(Math.ceil(this.entries.size * fraction)), options);
    const victims: K[] = [];
    let bytes = 0;
    for (const [key, size] of sized) {
      if (bytes >= total * fraction) break;
      victims.push(key);
      bytes += size;
    }
    return this.drop(victims, options);
  }

  /** The `count` coldest keys. */
  private coldestEntries(count: number): K[] {
    const victims: K[] = [];
    if (count <= 0) return victims;
    for (const key of this.entries.coldest()) {
      victims.push(key);
      if (victims.length >= count) break;
    }
    return victims;
  }

  clear(options: PurgeOptions): Promise<PurgeReport> {
    const all = this.entries.all;
    if (all && !this.options.writeBack) {
      // Nothing to flush: size what goes, then let the cache drop it in one call. Key by key
      // (has, peek, delete) costs a few microseconds an entry while the code is still cold, which
      // is how it runs at the first pressure event, on the path that has little time before an
      // OOM kill (docs/actions/cache-purge.md).
      const tally = { entries: 0, bytes: 0, complete: true };
      for (const [key, value] of all.entries()) {
        tally.entries++;
        const size = this.safeSizeOf(value, key);
        if (size === undefined) tally.complete = false;
        else tally.bytes += size;
      }
      all.clear();
      return Promise.resolve(report(tally));
    }
    return this.drop([...this.entries.coldest()], options);
  }

  private async drop(victims: readonly K[], options: PurgeOptions): Promise<PurgeReport> {
    const tally = { entries: 0, bytes: 0, complete: true };
    const dirty: [K, V][] = [];
    const writeBack = this.options.writeBack;
    // Clean entries go at once, in this turn: nothing can make them dirty in between.
    for (const key of victims) {
      if (!this.entries.has(key)) continue;
      const value = this.entries.peek(key) as V;
      if (writeBack?.isDirty(key, value)) dirty.push([key, value]);
      else this.remove(key, value, tally);
    }
    if (dirty.length === 0) return report(tally);
    let failure: unknown;
    try {
      await untilAborted(writeBack!.flush(dirty, options.signal), options.signal);
    } catch (error) {
      failure = error;
    }
    if (failure !== undefined) return { ...report(tally), kept: dirty.length, error: failure };
    let kept = 0;
    for (const [key, value] of dirty) {
      // Only the flushed value is durable: a newer write made during the flush stays.
      if (this.entries.has(key) && this.entries.peek(key) === value) this.remove(key, value, tally);
      else if (this.entries.has(key)) kept++;
    }
    return kept > 0 ? { ...report(tally), kept } : report(tally);
  }

  private remove(key: K, value: V, tally: { entries: number; bytes: number; complete: boolean }): void {
    const size = this.safeSizeOf(value, key);
    if (!this.entries.delete(key)) return;
    tally.entries++;
    if (size === undefined) tally.complete = false;
    else tally.bytes += size;
  }

  private sizeOf(key: K): number | undefined {
    return this.safeSizeOf(this.entries.peek(key) as V, key);
  }

  private safeSizeOf(value: V, key: K): number | undefined {
    const size = this.options.sizeOf ? this.options.sizeOf(value, key) : estimateBytes(value);
    return typeof size === 'number' && Number.isFinite(size) && size >= 0 ? size : undefined;
  }
}

function report(tally: { entries: number; bytes: number; complete: boolean }): PurgeReport {
  return { entries: tally.entries, bytes: tally.bytes, bytesComplete: tally.complete };
}

/** Resolves or rejects with `work`, or rejects with the signal's reason when it aborts first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason ?? new Error('aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Adapts a Map: its coldest entries are the oldest inserted (a Map keeps insertion order; an
 * application that deletes and re-inserts on read gets LRU order).
 */
export function purgeableMap<K, V>(map: Map<K, V>, options: AdapterOptions<K, V> = {}): Purgeable {
  return new EntriesPurgeable<K, V>(
    {
      get size() {
        return map.size;
      },
      coldest: () => map.keys(),
      peek: (key) => map.get(key),
      has: (key) => map.has(key),
      delete: (key) => map.delete(key),
      all: { entries: () => map.entries(), clear: () => map.clear() },
    },
    options,
  );
}

/**
 * Adapts an lru-cache (v10 or v11) instance: its coldest entries are the least recently used
 * (`rkeys()`), read with `peek()` so that purging does not refresh them. The cache's `dispose`
 * hooks run as for any `delete`.
 */
export function purgeableLruCache<K, V>(
  cache: LruCacheLike<K, V>,
  options: AdapterOptions<K, V> = {},
): Purgeable {
  return new EntriesPurgeable<K, V>(
    {
      get size() {
        return cache.size;
      },
      coldest: () => cache.rkeys(),
      peek: (key) => cache.peek(key),
      has: (key) => cache.peek(key) !== undefined,
      delete: (key) => cache.delete(key),
      ...(typeof cache.entries === 'function' && typeof cache.clear === 'function'
        ? { all: { entries: () => cache.entries!(), clear: () => cache.clear!() } }
        : {}),
    },
    options,
  );
}

/**
 * The {@link Purgeable} for anything the registry accepts: a Purgeable as it is, a Map or an
 * lru-cache through their adapters.
 *
 * @throws MemshedError `invalid-argument` for anything else.
 */
export function toPurgeable<K, V>(
  cache: Purgeable | Map<K, V> | LruCacheLike<K, V>,
  options: AdapterOptions<K, V> = {},
  name = 'cache',
): Purgeable {
  if (cache instanceof Map) return purgeableMap(cache, options);
  if (isPurgeable(cache)) {
    if (options.writeBack || options.sizeOf) {
      throw new MemshedError(
        'invalid-argument',
        `Cache '${name}' is a Purgeable: it sizes and flushes itself`,
        {
          fix: 'drop the sizeOf and writeBack options, or implement them inside trim() and clear()',
        },
      );
    }
    return cache;
  }
  if (isLruCacheLike(cache)) return purgeableLruCache(cache as LruCacheLike<K, V>, options);
  throw new MemshedError('invalid-argument', `Cache '${name}' is not a Map, an lru-cache or a Purgeable`, {
    fix: 'register a Map, an LRUCache (lru-cache 10 or 11), or an object with size(), trim(fraction) and clear()',
  });
}
