import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/** An item of the API: a small record and its rendered payload. */
export interface Item {
  readonly id: string;
  readonly name: string;
  readonly digest: string;
  /** The rendered body: what makes the cache worth keeping, and worth purging. */
  readonly payload: Buffer;
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

  constructor(
    /** Bytes of each item's payload. */
    private readonly payloadBytes = 32 * 1024,
    max = 10_000,
  ) {
    this.cache = new LRUCache<string, Item>({ max });
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
    const payload = Buffer.alloc(this.payloadBytes, id);
    return { id, name: `item ${id}`, digest: createHash('sha256').update(payload).digest('hex'), payload };
  }
}
