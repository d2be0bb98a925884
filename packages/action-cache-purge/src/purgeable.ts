/** How much a cache holds: entries always, bytes when the cache knows them. */
export interface CacheSize {
  /** Entries held. */
  readonly entries: number;
  /** Bytes held, when known (from the cache or from sizes of its values). */
  readonly bytes?: number;
}

/** What a purge of one cache may use. */
export interface PurgeOptions {
  /**
   * Aborted when the flush budget runs out or the run is cancelled: stop waiting for flushes and
   * keep every dirty entry whose flush has not completed.
   */
  readonly signal: AbortSignal;
}

/** What a purge of one cache did. */
export interface PurgeReport {
  /** Entries dropped. */
  readonly entries: number;
  /** Bytes dropped, when known: the sum of the known sizes of dropped values (see `bytesComplete`). */
  readonly bytes?: number;
  /** Whether every dropped value had a known size, so that `bytes` is not a lower bound. */
  readonly bytesComplete?: boolean;
  /** Dirty entries kept because their flush failed, timed out or was cancelled. */
  readonly kept?: number;
  /** Why dirty entries were kept: the flush's rejection or the abort reason. */
  readonly error?: unknown;
}

/**
 * What any cache implements to be purged by memshed: its size, and dropping its coldest entries
 * or all of them. Map and lru-cache instances are adapted for you (see `CacheRegistry.register`).
 *
 * A write-back cache (one that holds writes not yet in its backing store) must flush dirty
 * entries, awaited, before it drops them, and keep them when the flush fails: memshed may lose
 * memory, never data.
 */
export interface Purgeable {
  /** Entries and, when known, bytes held now. */
  size(): CacheSize;
  /**
   * Drops the coldest entries holding `fraction` (0 < fraction < 1) of the cache's bytes (of its
   * entries, rounded up, when it does not know their sizes): what a purge is for is memory, and
   * the coldest half of the entries can hold a sliver of it when sizes differ (a cache of small
   * items that just took a burst of large ones).
   */
  trim(fraction: number, options: PurgeOptions): PurgeReport | Promise<PurgeReport>;
  /** Drops every entry. */
  clear(options: PurgeOptions): PurgeReport | Promise<PurgeReport>;
}

/**
 * How a write-back cache's dirty entries reach their backing store before memshed drops them.
 *
 * `flush` receives the dirty entries chosen for dropping and resolves once they are durable; if
 * it rejects (or does not resolve before the purge's signal aborts), they stay in the cache and
 * the failure is reported. An entry whose value changed while its flush was running (a newer
 * write) stays too: only the value that was flushed may be dropped. `flush` must be ordered with
 * the application's own writes to the store (a later write wins), as any write-back cache must.
 */
export interface WriteBack<K, V> {
  /** Whether the entry holds a write that is not in the backing store yet. */
  isDirty(key: K, value: V): boolean;
  /** Writes the entries to the backing store; resolve when durable, reject to keep them. */
  flush(entries: readonly (readonly [K, V])[], signal: AbortSignal): Promise<void>;
}

/**
 * The bytes a value occupies, when it can be told in constant time: the byte length of Buffers,
 * typed arrays, DataViews and ArrayBuffers; for strings one byte per character (V8's one-byte
 * strings; a lower bound for strings with characters beyond Latin-1, which take two). Anything
 * else: undefined (unknown); pass `sizeOf` when registering to do better.
 */
export function estimateBytes(value: unknown): number | undefined {
  if (typeof value === 'string') return value.length;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return value.byteLength;
  return undefined;
}
