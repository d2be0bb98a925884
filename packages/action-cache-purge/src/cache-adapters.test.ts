import { MemshedError } from '@memshed/core';
import { LRUCache } from 'lru-cache';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  isLruCacheLike,
  purgeableLruCache,
  purgeableMap,
  toPurgeable,
  type LruCacheLike,
} from './cache-adapters';
import { estimateBytes, type Purgeable, type WriteBack } from './purgeable';

const live = () => ({ signal: new AbortController().signal });

function buffers(count: number, size = 1024): Map<string, Buffer> {
  const map = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) map.set(`k${i}`, Buffer.alloc(size, i));
  return map;
}

/** A write-back hook over a dirty set and a store, with a switch to make flushes fail. */
function writeBackOver<V>(dirty: Set<string>, store: Map<string, V>) {
  const hook = {
    fail: false as false | Error,
    flushed: [] as string[][],
    pending: undefined as undefined | Promise<void>,
    hold: undefined as undefined | (() => void),
    isDirty: (key: string) => dirty.has(key),
    async flush(entries: readonly (readonly [string, V])[]) {
      hook.flushed.push(entries.map(([key]) => key));
      if (hook.hold) await new Promise<void>((resolve) => (hook.hold = resolve));
      if (hook.fail) throw hook.fail;
      for (const [key, value] of entries) {
        store.set(key, value);
        dirty.delete(key);
      }
    },
  };
  return hook;
}

describe(estimateBytes, () => {
  it('sizes Buffers, typed arrays, ArrayBuffers and strings, and nothing else', () => {
    expect(estimateBytes(Buffer.alloc(100))).toBe(100);
    expect(estimateBytes(new Float64Array(4))).toBe(32);
    expect(estimateBytes(new ArrayBuffer(7))).toBe(7);
    expect(estimateBytes('abc')).toBe(3);
    expect(estimateBytes({ a: 1 })).toBeUndefined();
    expect(estimateBytes(5)).toBeUndefined();
  });
});

describe(purgeableMap, () => {
  describe('.trim', () => {
    it('drops the oldest entries first, rounding up, and reports entries and bytes', async () => {
      const map = buffers(5);
      const cache = purgeableMap(map);
      expect(cache.size()).toEqual({ entries: 5, bytes: 5120 });
      expect(await cache.trim(0.5, live())).toEqual({ entries: 3, bytes: 3072, bytesComplete: true });
      expect([...map.keys()]).toEqual(['k3', 'k4']);
    });

    it('drops the coldest entries holding the fraction of the bytes, not of the entries, when sizes differ', async () => {
      // 8 small cold entries, then 2 large hot ones (a burst): half the entries would free 8 KiB of 1 MiB.
      const map = new Map<string, Buffer>();
      for (let i = 0; i < 8; i++) map.set(`small${i}`, Buffer.alloc(1024));
      map.set('large0', Buffer.alloc(508 * 1024));
      map.set('large1', Buffer.alloc(508 * 1024));
      const report = await purgeableMap(map).trim(0.5, live());
      expect(report).toEqual({ entries: 9, bytes: 8 * 1024 + 508 * 1024, bytesComplete: true });
      expect([...map.keys()]).toEqual(['large1']);
    });

    it('says when sizes are unknown, and uses sizeOf when given', async () => {
      const map = new Map<string, object>([
        ['a', { n: 1 }],
        ['b', { n: 2 }],
      ]);
      expect(purgeableMap(map).size()).toEqual({ entries: 2 });
      expect(await purgeableMap(map).trim(0.5, live())).toEqual({
        entries: 1,
        bytes: 0,
        bytesComplete: false,
      });
      const sized = purgeableMap(map, { sizeOf: () => 40 });
      expect(sized.size()).toEqual({ entries: 1, bytes: 40 });
      expect(await sized.clear(live())).toEqual({ entries: 1, bytes: 40, bytesComplete: true });
    });
  });

  describe('.clear', () => {
    it('drops everything in one Map.clear() when nothing needs flushing', async () => {
      const map = buffers(3);
      const clear = jest.spyOn(map, 'clear');
      const deleted = jest.spyOn(map, 'delete');
      expect(await purgeableMap(map).clear(live())).toEqual({ entries: 3, bytes: 3072, bytesComplete: true });
      expect(map.size).toBe(0);
      expect(clear).toHaveBeenCalledTimes(1);
      expect(deleted).not.toHaveBeenCalled();
    });

    it('goes entry by entry for a write-back cache, so that dirty entries can stay', async () => {
      const map = buffers(2);
      const clear = jest.spyOn(map, 'clear');
      const writeBack = writeBackOver(new Set<string>(), new Map<string, Buffer>());
      expect(await purgeableMap(map, { writeBack }).clear(live())).toMatchObject({ entries: 2 });
      expect(clear).not.toHaveBeenCalled();
    });
  });

  describe('with write-back', () => {
    it('flushes dirty victims before dropping them, and drops clean ones without a flush', async () => {
      const map = buffers(4);
      const dirty = new Set(['k1', 'k3']);
      const store = new Map<string, Buffer>();
      const hook = writeBackOver(dirty, store);
      const report = await purgeableMap(map, { writeBack: hook }).trim(0.5, live());
      expect(hook.flushed).toEqual([['k1']]);
      expect(report).toEqual({ entries: 2, bytes: 2048, bytesComplete: true });
      expect([...map.keys()]).toEqual(['k2', 'k3']);
      expect([...store.keys()]).toEqual(['k1']);
    });

    it('keeps dirty entries whose flush fails, and says why', async () => {
      const map = buffers(3);
      const dirty = new Set(['k0', 'k2']);
      const hook = writeBackOver(dirty, new Map());
      hook.fail = new Error('disk full');
      const report = await purgeableMap(map, { writeBack: hook }).clear(live());
      expect(report).toMatchObject({ entries: 1, kept: 2, error: hook.fail });
      expect([...map.keys()]).toEqual(['k0', 'k2']);
    });

    it('keeps an entry written again while its flush was running', async () => {
      const map = buffers(2);
      const dirty = new Set(['k0', 'k1']);
      const store = new Map<string, Buffer>();
      const hook = writeBackOver(dirty, store);
      hook.hold = () => undefined;
      const purge = purgeableMap(map, { writeBack: hook }).clear(live());
      await Promise.resolve();
      const newer = Buffer.from('newer');
      map.set('k1', newer);
      hook.hold();
      hook.hold = undefined;
      expect(await purge).toMatchObject({ entries: 1, kept: 1 });
      expect(map.get('k1')).toBe(newer);
    });

    it('stops waiting for a flush when the signal aborts and keeps the dirty entries', async () => {
      const map = buffers(2);
      const hook = writeBackOver(new Set(['k0', 'k1']), new Map());
      hook.hold = () => undefined;
      const controller = new AbortController();
      const purge = purgeableMap(map, { writeBack: hook }).clear({ signal: controller.signal });
      const reason = new Error('flush budget spent');
      controller.abort(reason);
      expect(await purge).toMatchObject({ entries: 0, kept: 2, error: reason });
      expect(map.size).toBe(2);
      hook.hold(); // the late flush completes; the entries stay (and are clean): nothing lost either way
    });
  });
});

describe(purgeableLruCache, () => {
  it('trims the least recently used entries of a real lru-cache 11, without refreshing them', async () => {
    const disposed: string[] = [];
    const lru = new LRUCache<string, Buffer>({ max: 100, dispose: (_value, key) => void disposed.push(key) });
    for (let i = 0; i < 6; i++) lru.set(`k${i}`, Buffer.alloc(512));
    lru.get('k0'); // k0 becomes the most recently used
    lru.get('k1');
    expect(isLruCacheLike(lru)).toBe(true);
    const cache = purgeableLruCache(lru);
    expect(cache.size()).toEqual({ entries: 6, bytes: 3072 });
    expect(await cache.trim(0.5, live())).toEqual({ entries: 3, bytes: 1536, bytesComplete: true });
    expect([...lru.keys()]).toEqual(['k1', 'k0', 'k5']);
    expect(disposed).toEqual(['k2', 'k3', 'k4']);
    expect(await cache.clear(live())).toMatchObject({ entries: 3 });
    expect(lru.size).toBe(0);
  });

  it('clears a real lru-cache 11 in one call, with its dispose hooks, when nothing needs flushing', async () => {
    const disposed: string[] = [];
    const lru = new LRUCache<string, string>({ max: 100, dispose: (_value, key) => void disposed.push(key) });
    lru.set('a', 'x'.repeat(10));
    lru.set('b', 'y'.repeat(20));
    const clear = jest.spyOn(lru, 'clear');
    const deleted = jest.spyOn(lru, 'delete');
    expect(await purgeableLruCache(lru).clear(live())).toEqual({
      entries: 2,
      bytes: 30,
      bytesComplete: true,
    });
    expect(clear).toHaveBeenCalledTimes(1);
    expect(deleted).not.toHaveBeenCalled();
    expect(lru.size).toBe(0);
    expect(disposed.sort()).toEqual(['a', 'b']);
  });

  it('clears key by key an lru-cache-like object without entries() and clear()', async () => {
    const store = new Map([
      ['a', 'aa'],
      ['b', 'bbb'],
    ]);
    const minimal: LruCacheLike<string, string> = {
      get size() {
        return store.size;
      },
      rkeys: () => [...store.keys()],
      peek: (key) => store.get(key),
      delete: (key) => store.delete(key),
    };
    expect(await purgeableLruCache(minimal).clear(live())).toEqual({
      entries: 2,
      bytes: 5,
      bytesComplete: true,
    });
    expect(store.size).toBe(0);
  });

  it('flushes dirty entries of an lru-cache before dropping them', async () => {
    const lru = new LRUCache<string, string>({ max: 10 });
    lru.set('a', 'x'.repeat(10));
    lru.set('b', 'y'.repeat(10));
    const dirty = new Set(['a']);
    const store = new Map<string, string>();
    const hook = writeBackOver(dirty, store);
    hook.fail = new Error('store down');
    const writeBack: WriteBack<string, string> = hook;
    expect(await purgeableLruCache(lru, { writeBack }).clear(live())).toMatchObject({ entries: 1, kept: 1 });
    expect([...lru.keys()]).toEqual(['a']);
    hook.fail = false;
    const second = await purgeableLruCache(lru, { writeBack }).clear(live());
    expect(second).toEqual({ entries: 1, bytes: 10, bytesComplete: true });
    expect(store.get('a')).toBe('x'.repeat(10));
    expect(lru.size).toBe(0);
  });

  it('works with lru-cache 10 as well, when a copy is installed', async () => {
    let LRU10:
      | (new (options: { max: number }) => LruCacheLike<string, string> & {
          set(k: string, v: string): void;
          get(k: string): string | undefined;
        })
      | undefined;
    for (const owner of ['pacote', 'test-exclude']) {
      try {
        const base = path.dirname(require.resolve(`${owner}/package.json`));
        const found = require.resolve('lru-cache', { paths: [base] });
        const root = found.slice(0, found.lastIndexOf('lru-cache') + 'lru-cache'.length);
        const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
          version: string;
        };
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        if (version.startsWith('10.')) LRU10 = (require(found) as { LRUCache: typeof LRU10 }).LRUCache;
      } catch {
        // not installed under this package
      }
      if (LRU10) break;
    }
    if (!LRU10) {
      console.log('lru-cache 10 is not installed in this tree: only the v11 adapter test ran');
      return;
    }
    const lru = new LRU10({ max: 10 });
    for (const key of ['a', 'b', 'c', 'd']) lru.set(key, key);
    lru.get('a');
    expect(await purgeableLruCache(lru).trim(0.5, live())).toMatchObject({ entries: 2, bytes: 2 });
    expect([...lru.rkeys()]).toEqual(['d', 'a']);
  });
});

describe(toPurgeable, () => {
  it('adapts Maps and lru-caches, passes a Purgeable through, and rejects anything else', () => {
    const custom: Purgeable = {
      size: () => ({ entries: 0 }),
      trim: () => ({ entries: 0 }),
      clear: () => ({ entries: 0 }),
    };
    expect(toPurgeable(custom)).toBe(custom);
    expect(toPurgeable(new Map()).size()).toEqual({ entries: 0, bytes: 0 });
    expect(toPurgeable(new LRUCache<string, string>({ max: 1 })).size()).toEqual({ entries: 0, bytes: 0 });
    expect(() => toPurgeable({} as Purgeable, {}, 'odd')).toThrow(
      /Cache 'odd' is not a Map, an lru-cache or a Purgeable/,
    );
    expect(() => toPurgeable(custom, { sizeOf: () => 1 }, 'self-sized')).toThrow(MemshedError);
  });
});
