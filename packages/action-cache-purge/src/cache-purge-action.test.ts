import { ActionRunner, SheddingActionFactory, loadPlugins, type PressureState } from '@memshed/core';
import { ManualScheduler, firstIssuePath, validOptions } from '@memshed/core/testing';
import { LRUCache } from 'lru-cache';
import cachePurgeModule, { CachePurgeAction, CacheRegistry, cachePurgeOptionsSchema } from './index';
import type { CachePurgeOptionsInput } from './cache-purge-options';

const options = (input: CachePurgeOptionsInput = {}) => validOptions(cachePurgeOptionsSchema, input);

function filled(count: number, size = 1000): Map<number, Buffer> {
  const map = new Map<number, Buffer>();
  for (let i = 0; i < count; i++) map.set(i, Buffer.alloc(size));
  return map;
}

function setup(input: CachePurgeOptionsInput = {}) {
  const registry = new CacheRegistry();
  const caches = {
    background: filled(10),
    low: filled(10),
    normal: filled(10),
    high: filled(10),
    kept: filled(10),
  };
  registry.register('background', caches.background, { priority: 'background' });
  registry.register('low', caches.low, { priority: 'low' });
  registry.register('normal', caches.normal, { priority: 'normal' });
  registry.register('high', caches.high, { priority: 'high' });
  registry.register('kept', caches.kept, { priority: 'background', keep: true });
  const action = new CachePurgeAction(options(input), registry);
  const runner = new ActionRunner({ scheduler: new ManualScheduler() });
  const sizes = () => Object.fromEntries(Object.entries(caches).map(([name, map]) => [name, map.size]));
  const run = (level: PressureState, dryRun = false) => runner.run(action, { level, dryRun });
  return { registry, caches, action, runner, sizes, run };
}

describe(CachePurgeAction, () => {
  describe('.run', () => {
    it('purges nothing at low and normal by default', async () => {
      const { run, sizes } = setup();
      expect(await run('low')).toMatchObject({
        status: 'ok',
        summary: 'nothing to purge at level low',
        details: { entries: 0 },
      });
      expect((await run('normal')).details?.entries).toBe(0);
      expect(Object.values(sizes())).toEqual([10, 10, 10, 10, 10]);
    });

    it('trims the coldest half of low-priority caches at medium', async () => {
      const { run, sizes } = setup();
      const record = await run('medium');
      expect(sizes()).toEqual({ background: 5, low: 5, normal: 10, high: 10, kept: 10 });
      expect(record).toMatchObject({
        status: 'ok',
        details: { entries: 10 },
        freedBytes: 10_000,
        estimated: true,
      });
      expect(record.summary).toBe(
        'trim 50% of caches up to priority low: 10 entries, ~9.8 KiB from 2 cache(s)',
      );
    });

    it('clears every cache but those marked keep at critical', async () => {
      const { run, sizes } = setup();
      const record = await run('critical');
      expect(sizes()).toEqual({ background: 0, low: 0, normal: 0, high: 0, kept: 10 });
      expect(record).toMatchObject({ details: { entries: 40 }, freedBytes: 40_000, outcome: 'continue' });
      expect((record.details?.caches as { name: string }[]).map((c) => c.name)).toEqual([
        'background',
        'low',
        'normal',
        'high',
      ]);
    });

    it('follows configured levels, and top-level fraction and upTo over every level', async () => {
      const configured = setup({ levels: { low: { fraction: 0.2 }, medium: { upTo: 'normal' } } });
      await configured.run('low');
      expect(configured.sizes()).toMatchObject({ background: 8, low: 10 });
      await configured.run('medium');
      expect(configured.sizes()).toMatchObject({ background: 4, low: 5, normal: 5, high: 10 });
      const flat = setup({ fraction: 0.1, upTo: 'high' });
      await flat.run('critical');
      expect(flat.sizes()).toEqual({ background: 9, low: 9, normal: 9, high: 9, kept: 10 });
    });

    it('selects by tags', async () => {
      const registry = new CacheRegistry();
      const http = filled(4);
      const db = filled(4);
      registry.register('http', http, { tags: ['http'] });
      registry.register('db', db, { tags: ['db'] });
      const action = new CachePurgeAction(options({ tags: ['db'] }), registry);
      await new ActionRunner().run(action, { level: 'critical' });
      expect([http.size, db.size]).toEqual([4, 0]);
    });

    it('in a dry run says what it would drop and drops nothing', async () => {
      const { run, sizes } = setup();
      const record = await run('critical', true);
      expect(record).toMatchObject({
        dryRun: true,
        details: { entries: 40 },
        freedBytes: 40_000,
        estimated: true,
      });
      expect(record.summary).toMatch(/^would clear caches up to priority high: ~40 entries/);
      expect(Object.values(sizes())).toEqual([10, 10, 10, 10, 10]);
    });

    it('stops the chain once enough was freed, and only then', async () => {
      const enough = setup({ enough: '20K' });
      const record = await enough.run('critical');
      expect(record.outcome).toBe('stop');
      expect(enough.sizes()).toMatchObject({ background: 0, low: 0, normal: 0, high: 10 });
      const notEnough = setup({ enough: '1M' });
      expect((await notEnough.run('critical')).outcome).toBe('continue');
    });

    it('reports a failed flush through the runner, keeps the dirty entries and purges the rest', async () => {
      const registry = new CacheRegistry();
      const lru = new LRUCache<string, Buffer>({ max: 10 });
      lru.set('dirty', Buffer.alloc(10));
      lru.set('clean', Buffer.alloc(10));
      registry.register('sessions', lru, {
        writeBack: {
          isDirty: (key) => key === 'dirty',
          flush: () => Promise.reject(new Error('store offline')),
        },
      });
      const runner = new ActionRunner();
      const errors: string[] = [];
      runner.errors$.subscribe((error) => errors.push(error.message));
      const record = await runner.run(new CachePurgeAction(options(), registry), { level: 'critical' });
      expect(record).toMatchObject({ status: 'ok', details: { entries: 1 }, freedBytes: 10 });
      expect(record.details).toMatchObject({ kept: 1 });
      expect(errors).toEqual(["Cache 'sessions' kept 1 dirty entries: store offline"]);
      expect(record.errors.map((e) => e.message)).toEqual(errors);
      expect([...lru.keys()]).toEqual(['dirty']);
    });

    it('measures the bytes freed with garbage collections when asked', async () => {
      const registry = new CacheRegistry();
      const big = new Map<number, Buffer>();
      for (let i = 0; i < 64; i++) big.set(i, Buffer.alloc(256 * 1024, 1));
      registry.register('big', big);
      const record = await new ActionRunner().run(
        new CachePurgeAction(options({ measure: true }), registry),
        {
          level: 'critical',
        },
      );
      expect(record.estimated).toBe(false);
      expect(record.details).toMatchObject({ estimatedBytes: 16 * 1024 * 1024 });
      // The Buffers' backing stores were external memory: the collections free (nearly) all of it.
      expect(record.freedBytes).toBeGreaterThan(0.9 * 16 * 1024 * 1024);
    });
  });
});

describe('cache-purge options', () => {
  it('defaults every level', () => {
    expect(options()).toEqual({
      tags: [],
      levels: {
        low: { fraction: 0, upTo: 'background' },
        medium: { fraction: 0.5, upTo: 'low' },
        critical: { fraction: 1, upTo: 'high' },
      },
      flushTimeout: 2000,
      measure: false,
    });
    expect(options({ flushTimeout: '500ms', enough: '64M' })).toMatchObject({
      flushTimeout: 500,
      enough: 67_108_864,
    });
  });

  it.each([
    [{ fraction: 1.5 }, 'fraction'],
    [{ levels: { medium: { fraktion: 0.5 } } }, 'levels.medium'],
    [{ upTo: 'urgent' }, 'upTo'],
    [{ flushTimeout: '5 parsecs' }, 'flushTimeout'],
    [{ enough: 'lots' }, 'enough'],
    [{ purge: true }, ''],
  ])('rejects %p at %p', (input, path) => {
    expect(firstIssuePath(cachePurgeOptionsSchema, input)).toBe(path);
  });
});

describe('cachePurgeModule', () => {
  it('provides the cache-purge factory over the container-wide registry', () => {
    const { container, actions } = loadPlugins([cachePurgeModule]);
    expect(actions.map((a) => a.id)).toEqual(['cache-purge']);
    const [factory] = actions;
    expect(container.getAll(SheddingActionFactory)).toEqual([factory]);
    const registry = container.get(CacheRegistry);
    expect(container.get(CacheRegistry)).toBe(registry);
    const map = filled(2);
    registry.register('m', map);
    const action = factory.create(options());
    return new ActionRunner().run(action, { level: 'critical' }).then((record) => {
      expect(record.details?.entries).toBe(2);
      expect(map.size).toBe(0);
    });
  });
});
