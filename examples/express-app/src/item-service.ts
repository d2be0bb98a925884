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
  /** Items kept at most. Default 10,000. */
  readonly max?: number;
}

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

  /** The item `id`, from the cache or computed. */
  get(id: string): Item {
    const cached = this.cache.get(id);
    if (cached) return cached;
    const item = this.compute(id);
    this.cache.set(id, item);
    return item;
  }

  private compute(id: string): Item {
    this.computed++;
    const rendered = Buffer.alloc(this.payloadBytes, id);
    const digest = createHash('sha256').update(rendered).digest('hex');
    // latin1: one byte per character, so a string payload weighs what the Buffer does.
    const payload = this.strings ? rendered.toString('latin1') : rendered;
    return { id, name: `item ${id}`, digest, payload };
  }
}
