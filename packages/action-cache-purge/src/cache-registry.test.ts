import { MemshedError } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { Container } from '@memshed/core/inversify';
import { LRUCache } from 'lru-cache';
import { CacheRegistry, cachesOf } from './cache-registry';
import type { Purgeable, PurgeReport } from './purgeable';

function filled(count: number, size = 1000): Map<number, Buffer> {
  const map = new Map<number, Buffer>();
  for (let i = 0; i < count; i++) map.set(i, Buffer.alloc(size));
  return map;
}

const run = (scheduler = new ManualScheduler()) => ({
  signal: new AbortController().signal,
  flushTimeout: 1000,
  scheduler,
});

describe(CacheRegistry, () => {
  describe('.register', () => {
    it('lists caches in purge order: lowest priority first, then registration order', () => {
      const registry = new CacheRegistry();
      registry.register('a', new Map(), { priority: 'high' });
      registry.register('b', new Map());
      registry.register('c', new Map(), { priority: 'background', tags: ['http'] });
      registry.register('d', new Map(), { priority: 'normal', keep: true });
      expect(registry.list().map((c) => [c.name, c.priority, c.keep])).toEqual([
        ['c', 'background', false],
        ['b', 'normal', false],
        ['d', 'normal', true],
        ['a', 'high', false],
      ]);
      expect(registry.get('c')?.tags).toEqual(['http']);
    });

    it('rejects a taken name, an unknown priority, an empty name and an unknown cache type', () => {
      const registry = new CacheRegistry();
      registry.register('a', new Map());
      expect(() => registry.register('a', new Map())).toThrow(/already registered/);
      expect(() => registry.register('b', new Map(), { priority: 'urgent' as 'high' })).toThrow(
        /unknown priority 'urgent'.*background, low, normal, high/,
      );
      expect(() => registry.register('', new Map())).toThrow(MemshedError);
      expect(() => registry.register('c', [] as unknown as Map<never, never>)).toThrow(
        /not a Map, an lru-cache/,
      );
    });

    it('returns a registration that removes only itself', () => {
      const registry = new CacheRegistry();
      const first = registry.register('a', new Map());
      first.dispose();
      const second = registry.register('a', new Map());
      first.dispose();
      expect(registry.get('a')).toBeDefined();
      second.dispose();
      expect(registry.list()).toEqual([]);
      expect(registry.unregister('a')).toBe(false);
    });
  });

  describe('.select', () => {
    it('selects by priority limit and tags, never a cache marked keep', () => {
      const registry = new CacheRegistry();
      registry.register('bg', new Map(), { priority: 'background', tags: ['http'] });
      registry.register('low', new Map(), { priority: 'low', tags: ['db'] });
      registry.register('normal', new Map());
      registry.register('kept', new Map(), { priority: 'background', keep: true });
      registry.register('high', new Map(), { priority: 'high', tags: ['http'] });
      const names = (plan: Parameters<CacheRegistry['select']>[0]) =>
        registry.select(plan).map((c) => c.name);
      expect(names({ upTo: 'low' })).toEqual(['bg', 'low']);
      expect(names({ upTo: 'high' })).toEqual(['bg', 'low', 'normal', 'high']);
      expect(names({ upTo: 'high', tags: ['http'] })).toEqual(['bg', 'high']);
      expect(names({ upTo: 'background', tags: ['db'] })).toEqual([]);
    });
  });

  describe('.purge', () => {
    it('trims the selected caches, lowest priority first, and sums what was dropped', async () => {
      const registry = new CacheRegistry();
      const order: string[] = [];
      const spy = (name: string, map: Map<number, Buffer>): Purgeable => {
        const inner = registry.register(`${name}-inner`, map);
        const purgeable = registry.get(inner.name)!.purgeable;
        inner.dispose();
        return {
          size: () => purgeable.size(),
          trim: (fraction, options) => (order.push(name), purgeable.trim(fraction, options)),
          clear: (options) => (order.push(name), purgeable.clear(options)),
        };
      };
      const normal = filled(4);
      const low = filled(10);
      registry.register('normal', spy('normal', normal));
      registry.register('low', spy('low', low), { priority: 'low' });
      const summary = await registry.purge({ fraction: 0.5, upTo: 'normal' }, run());
      expect(order).toEqual(['low', 'normal']);
      expect(summary).toMatchObject({ entries: 7, bytes: 7000, bytesComplete: true, kept: 0 });
      expect(summary.caches.map((c) => [c.name, c.operation, c.entries, c.bytes])).toEqual([
        ['low', 'trim', 5, 5000],
        ['normal', 'trim', 2, 2000],
      ]);
      expect([low.size, normal.size]).toEqual([5, 2]);
    });

    it('clears at fraction 1 and leaves caches marked keep alone', async () => {
      const registry = new CacheRegistry();
      const lru = new LRUCache<number, Buffer>({ max: 100 });
      for (let i = 0; i < 8; i++) lru.set(i, Buffer.alloc(100));
      const kept = filled(3);
      registry.register('lru', lru, { priority: 'high' });
      registry.register('kept', kept, { keep: true });
      const summary = await registry.purge({ fraction: 1, upTo: 'high' }, run());
      expect(summary.caches.map((c) => [c.name, c.operation, c.entries])).toEqual([['lru', 'clear', 8]]);
      expect(lru.size).toBe(0);
      expect(kept.size).toBe(3);
    });

    it('stops at enough bytes and marks the rest as skipped', async () => {
      const registry = new CacheRegistry();
      registry.register('a', filled(4), { priority: 'background' });
      registry.register('b', filled(4), { priority: 'low' });
      const summary = await registry.purge({ fraction: 1, upTo: 'high', enough: 3000 }, run());
      expect(summary.caches.map((c) => [c.name, c.entries, c.skipped])).toEqual([
        ['a', 4, undefined],
        ['b', 0, 'enough'],
      ]);
    });

    it('keeps dirty entries when their flush outlives flushTimeout, in scheduler time', async () => {
      const scheduler = new ManualScheduler();
      const registry = new CacheRegistry();
      const map = filled(2);
      let release!: () => void;
      registry.register('wb', map, {
        writeBack: {
          isDirty: (key) => key === 0,
          flush: () => new Promise<void>((resolve) => (release = resolve)),
        },
      });
      const purge = registry.purge({ fraction: 1, upTo: 'high' }, run(scheduler));
      await Promise.resolve();
      scheduler.advanceBy(999);
      await Promise.resolve();
      expect(map.size).toBe(1); // the clean entry went at once; the dirty one waits for its flush
      scheduler.advanceBy(1);
      const summary = await purge;
      expect(summary.caches[0]).toMatchObject({ entries: 1, kept: 1 });
      expect(summary.caches[0].error?.kind).toBe('timeout');
      expect(summary.caches[0].error?.message).toMatch(/flush did not finish within 1000 ms/);
      expect([...map.keys()]).toEqual([0]);
      release();
    });

    it('reports a cache whose purge throws and goes on with the others', async () => {
      const registry = new CacheRegistry();
      registry.register('broken', {
        size: () => ({ entries: 1 }),
        trim: () => ({ entries: 0 }),
        clear: (): PurgeReport => {
          throw new Error('corrupt index');
        },
      });
      const healthy = filled(2);
      registry.register('healthy', healthy);
      const summary = await registry.purge({ fraction: 1, upTo: 'high' }, run());
      expect(summary.caches[0].error?.message).toBe("Cache 'broken' failed to purge: corrupt index");
      expect(summary.caches[1]).toMatchObject({ name: 'healthy', entries: 2 });
      expect(healthy.size).toBe(0);
    });

    it('skips a cache that another purge is still flushing', async () => {
      const registry = new CacheRegistry();
      let release!: () => void;
      const map = filled(2);
      registry.register('wb', map, {
        writeBack: { isDirty: () => true, flush: () => new Promise<void>((resolve) => (release = resolve)) },
      });
      const first = registry.purge({ fraction: 1, upTo: 'high' }, run());
      const second = await registry.purge({ fraction: 1, upTo: 'high' }, run());
      expect(second.caches[0].skipped).toBe('busy');
      release();
      expect((await first).entries).toBe(2);
    });

    it('starts no further cache once the signal is aborted', async () => {
      const registry = new CacheRegistry();
      registry.register('a', filled(2));
      const controller = new AbortController();
      controller.abort();
      const summary = await registry.purge(
        { fraction: 1, upTo: 'high' },
        { ...run(), signal: controller.signal },
      );
      expect(summary.caches[0].skipped).toBe('cancelled');
      expect(registry.get('a')!.purgeable.size().entries).toBe(2);
    });

    it('rejects a fraction outside 0..1', async () => {
      await expect(new CacheRegistry().purge({ fraction: 2, upTo: 'low' }, run())).rejects.toThrow(
        /between 0 and 1/,
      );
    });
  });

  describe('.preview', () => {
    it('says what a purge would drop without touching anything', () => {
      const registry = new CacheRegistry();
      const map = filled(10);
      registry.register('a', map, { priority: 'low' });
      registry.register('objects', new Map([[1, {}]]), { priority: 'low' });
      const preview = registry.preview({ fraction: 0.5, upTo: 'low' });
      expect(preview.caches.map((c) => [c.name, c.entries, c.bytes, c.bytesComplete])).toEqual([
        ['a', 5, 5000, true],
        ['objects', 1, undefined, false],
      ]);
      expect(preview).toMatchObject({ entries: 6, bytes: 5000, bytesComplete: false });
      expect(map.size).toBe(10);
    });
  });
});

describe(cachesOf, () => {
  it('finds the registry in a container, and explains when the module is not loaded', () => {
    const container = new Container();
    expect(() => cachesOf(container)).toThrow(/cache-purge module is not loaded/);
    container.bind(CacheRegistry).toSelf().inSingletonScope();
    expect(cachesOf({ container })).toBe(cachesOf(container));
  });
});
