import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** An item of the API: a small record and its rendered payload. */
export interface Item {
  readonly id: string;
  readonly name: string;
  readonly digest: string;
  /** The rendered body: what makes the cache worth keeping, and worth purging. */
  readonly payload: Buffer | string;
}

/**
 * How items are rendered and cached. Requests for ever new ids make the cache grow with traffic:
 * by `payloadBytes` per request, up to `max` items.
 */
export interface ItemServiceOptions {
  /** Bytes of each item's payload. Default 32 KiB. */
  readonly payloadBytes?: number;
  /**
   * `buffer`: payloads are Buffers, held outside the V8 heap (a process that keeps too many is
   * OOM-killed by the kernel); `string`: JS strings on the V8 heap (it dies of heap OOM first).
   * Default `buffer`.
   */
  readonly payload?: 'buffer' | 'string';
  /** Items kept at most. Default 10,000 (raise it with small items, or the cache stops growing early). */
  readonly max?: number;
}

const DIGEST_BYTES = 64 * 1024;

/** The largest payload one request may ask for (`?bytes=`): a request must not take the process alone. */
export const MAX_ITEM_BYTES = 16 * 1024 * 1024;

/**
 * Items, computed on demand (expensive) and kept in an lru-cache. memshed purges the cache under
 * pressure (it is registered with the cache-purge action as `items`, priority `low`): a purged
 * item is computed again on its next request.
 */
export class ItemService {
  /** The cache, as registered with memshed's CacheRegistry. */
  readonly cache: LRUCache<string, Item>;
  /** Items computed (cache misses). */
  computed = 0;

  private readonly payloadBytes: number;
  private readonly strings: boolean;

  constructor(options: ItemServiceOptions = {}) {
    this.payloadBytes = options.payloadBytes ?? 32 * 1024;
    this.strings = options.payload === 'string';
    this.cache = new LRUCache<string, Item>({ max: options.max ?? 10_000 });
  }

  /**
   * The item `id`, from the cache or computed with a payload of `bytes` (default: the service's
   * `payloadBytes`), so that a client sets how fast the cache grows per request.
   */
  get(id: string, bytes = this.payloadBytes): Item {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const item = this.compute(id, bytes);
    this.cache.set(id, item);
    return item;
  }

  /**
   * Fills the cache with `bytes` of items (ids `prefill-<n>`, 64 KiB payloads, or `payloadBytes`
   * when larger) before the service takes requests: a slow-growing service then reaches memory
   * pressure within a bounded time instead of after minutes of traffic. Returns the items added.
   */
  prefill(bytes: number): number {
    const itemBytes = Math.max(64 * 1024, this.payloadBytes);
    const count = Math.ceil(bytes / itemBytes);
    for (let n = 0; n < count; n++) this.get(`prefill-${n}`, itemBytes);
    return count;
  }

  private compute(id: string, bytes: number): Item {
    this.computed++;
    const rendered = Buffer.alloc(bytes, id);
    // The digest covers the first 64 KiB only: it stands for the work of rendering an item, and the
    // same work per request whatever its size keeps the CPU cost of fast growth (640 KiB per request)
    // from deciding how many requests the service can serve.
    const digest = createHash('sha256').update(rendered.subarray(0, DIGEST_BYTES)).digest('hex');
    // latin1: one byte per character, so a string payload weighs what the Buffer does.
    const payload = this.strings ? rendered.toString('latin1') : rendered;
    return { id, name: `item ${id}`, digest, payload };
  }
}
