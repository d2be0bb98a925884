import { ActionRunner, loadPlugins } from '@memshed/core';
import type { GcAvailability } from '@memshed/native';
import { ManualScheduler, firstIssuePath, validOptions } from '@memshed/core/testing';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import gcModule, {
  GcAction,
  GcGate,
  gcOptionsSchema,
  type GcEnvironment,
  type GcOptionsInput,
} from './index';
import type { MemorySample } from './memory-sample';

const MiB = 1024 * 1024;

const options = (input: GcOptionsInput = {}) => validOptions(gcOptionsSchema, input);

/** What one scripted collection frees: of the V8 heap, and of external memory (backing stores). */
interface Collection {
  heap: number;
  external: number;
}

/** The Buffer cache of docs/kernel.md: the first collection finds the dead wrappers, the second sweeps their stores. */
const BUFFERS: Collection[] = [
  { heap: 1.5 * MiB, external: 0 },
  { heap: 0, external: 256 * MiB },
  { heap: 0, external: 0 },
];

/**
 * A process whose memory each gc() changes by a script, and whose malloc_trim hands back to the
 * kernel what V8 freed.
 */
function fakeProcess(
  script: Collection[],
  trim = { available: true, released: true } as ReturnType<GcEnvironment['mallocTrim']>,
  sweeping: 'synchronous' | 'unavailable' = 'unavailable',
) {
  const state = {
    heapUsed: 20 * MiB,
    external: 300 * MiB,
    rss: 330 * MiB,
    cgroup: 340 * MiB,
    collections: 0,
    calls: [] as string[],
  };
  const sample = (cgroup: unknown): MemorySample => ({
    rss: state.rss,
    heapUsed: state.heapUsed,
    heapTotal: 40 * MiB,
    external: state.external,
    arrayBuffers: state.external,
    ...(cgroup ? { cgroup: state.cgroup } : {}),
  });
  const gc: GcAvailability = {
    available: true,
    via: 'flag',
    gc: (call) => {
      const step = script[state.collections++] ?? { heap: 0, external: 0 };
      state.calls.push(call?.flavor === 'last-resort' ? 'gc (memory-reducing)' : 'gc');
      state.heapUsed -= step.heap;
      state.external -= step.external;
    },
  };
  const environment: GcEnvironment = {
    obtainGc: () => gc,
    mallocTrim: () => {
      state.calls.push('trim');
      state.rss = state.heapUsed + state.external + 10 * MiB;
      state.cgroup = state.rss + 10 * MiB;
      return trim;
    },
    sample,
    sweeping: () =>
      sweeping === 'synchronous'
        ? {
            available: true,
            run: <T>(work: () => T): T => {
              state.calls.push('sweep synchronously');
              try {
                return work();
              } finally {
                state.calls.push('sweep concurrently');
              }
            },
          }
        : { available: false, reason: 'flags are frozen here' },
  };
  return { state, environment };
}

/** The fake process's environment, with a clock on which every collection takes `ms`. */
function slowCollections(ms: number): GcEnvironment {
  const fake = fakeProcess(BUFFERS);
  let clock = 0;
  const gc = fake.environment.obtainGc();
  return {
    ...fake.environment,
    now: () => clock,
    obtainGc: () => (gc.available ? { ...gc, gc: (call) => ((clock += ms), gc.gc(call)) } : gc),
  };
}

function setup(
  input: GcOptionsInput = {},
  script = BUFFERS,
  sweeping: 'synchronous' | 'unavailable' = 'unavailable',
  environment: Partial<GcEnvironment> = {},
) {
  const fake = fakeProcess(script, undefined, sweeping);
  const scheduler = new ManualScheduler(10_000);
  const action = new GcAction(options({ cgroup: 'none', ...input }), new GcGate(), {
    ...fake.environment,
    ...environment,
  });
  const runner = new ActionRunner({ scheduler });
  return {
    ...fake,
    scheduler,
    action,
    runner,
    run: (dryRun = false) => runner.run(action, { level: 'critical', dryRun }),
  };
}

describe(GcAction, () => {
  describe('.run', () => {
    it("with concurrent sweeping, collects twice for a Buffer cache (the second sweeps the first one's stores), trims, and records it all", async () => {
      const { run, state } = setup();
      const record = await run();
      expect(state.calls).toEqual(['gc', 'gc', 'trim']);
      expect(record).toMatchObject({ status: 'ok', freedBytes: 257.5 * MiB, estimated: false });
      expect(record.summary).toBe(
        '2 full collection(s) freed 257.5 MiB in V8, malloc_trim released memory, RSS -257.5 MiB',
      );
      const details = record.details as {
        gc: { collections: { heapFreed: number; externalFreed: number }[] };
        before: MemorySample;
        after: MemorySample;
      };
      expect(details.gc.collections.map((c) => [c.heapFreed, c.externalFreed])).toEqual([
        [1.5 * MiB, 0],
        [0, 256 * MiB],
      ]);
      expect(details.before.rss - details.after.rss).toBe(257.5 * MiB);
    });

    it('with synchronous sweeping, collects once for a Buffer cache (it frees the stores itself), then trims', async () => {
      const { run, state } = setup(
        {},
        [
          { heap: 1.5 * MiB, external: 256 * MiB },
          { heap: 0, external: 0 },
        ],
        'synchronous',
      );
      const record = await run();
      // The stores go back first; then, as the first collection found 1.5 MiB of new garbage in
      // the heap, a second one looks for more (it finds nothing, so no second trim).
      expect(state.calls).toEqual([
        'sweep synchronously',
        'gc',
        'sweep concurrently',
        'trim',
        'sweep synchronously',
        'gc',
        'sweep concurrently',
      ]);
      expect(record.details).toMatchObject({ mallocTrim: { available: true, released: true } });
      expect(record.details).not.toHaveProperty('trims');
      expect(record.freedBytes).toBe(257.5 * MiB);
      expect(record.details).toMatchObject({ sweeping: 'synchronous' });
      const small = setup({}, [{ heap: 0.5 * MiB, external: 64 * MiB }], 'synchronous');
      await small.run();
      expect(small.state.calls).toEqual(['sweep synchronously', 'gc', 'sweep concurrently', 'trim']);
    });

    describe('where V8 pools the pages it frees (V8 12 and later)', () => {
      const pools = { poolsFreedPages: () => true };
      const strings = [
        { heap: 256 * MiB, external: 0 },
        { heap: 0, external: 0 },
      ];

      it('runs one memory-reducing collection after the trim, then settles as before', async () => {
        const { run, state } = setup({}, strings, 'synchronous', pools);
        const record = await run();
        expect(state.calls).toEqual([
          'sweep synchronously',
          'gc',
          'sweep concurrently',
          'trim',
          'sweep synchronously',
          'gc (memory-reducing)',
          'sweep concurrently',
        ]);
        expect(record.details).toMatchObject({ poolRelease: 'memory-reducing collection' });
      });

      it('counts it among maxCollections, and says so when there is no room left for it', async () => {
        const { run, state } = setup({ maxCollections: 1 }, strings, 'synchronous', pools);
        const record = await run();
        expect(state.calls.filter((call) => call.startsWith('gc'))).toEqual(['gc']);
        expect(record.details).toMatchObject({ poolRelease: 'skipped: maxCollections reached' });
      });

      it('runs none where V8 unmaps freed pages itself (V8 11)', async () => {
        const { run, state } = setup({}, strings, 'synchronous', { poolsFreedPages: () => false });
        const record = await run();
        expect(state.calls).not.toContain('gc (memory-reducing)');
        expect(record.details).toMatchObject({ poolRelease: 'not needed: V8 unmaps freed pages itself' });
      });
    });

    it('restores concurrent sweeping when a collection throws', async () => {
      const fake = fakeProcess([], undefined, 'synchronous');
      fake.environment.obtainGc = () => ({
        available: true,
        via: 'flag',
        gc: () => {
          throw new Error('collection failed');
        },
      });
      const record = await new ActionRunner().run(
        new GcAction(options({ cgroup: 'none' }), new GcGate(), fake.environment),
        { level: 'critical' },
      );
      expect(record.status).toBe('failed');
      expect(fake.state.calls).toEqual(['sweep synchronously', 'sweep concurrently']);
    });

    it('says why sweeping stayed concurrent, and then collects at least twice', async () => {
      const { run, state } = setup();
      const record = await run();
      expect(record.details).toMatchObject({ sweeping: 'concurrent (flags are frozen here)' });
      expect(state.collections).toBe(2);
      const told = setup({ sweep: 'concurrent' }, BUFFERS, 'synchronous');
      const concurrent = await told.run();
      expect(concurrent.details).toMatchObject({ sweeping: 'concurrent (sweep: concurrent)' });
      expect(told.state.calls).toEqual(['gc', 'gc', 'trim']);
    });

    it('never collects more than maxCollections, whatever the default minimum', async () => {
      const capped = setup({ maxCollections: 1 });
      await capped.run();
      expect(capped.state.calls).toEqual(['gc', 'trim']);
    });

    it('collects again while a collection still finds new garbage in the heap, up to maxCollections', async () => {
      const chained = setup({}, [
        { heap: 2 * MiB, external: 0 },
        { heap: 2 * MiB, external: 100 * MiB }, // garbage reachable only from the first round's
        { heap: 0, external: 100 * MiB },
        { heap: 0, external: 0 },
      ]);
      const record = await chained.run();
      expect(chained.state.collections).toBe(3);
      // Trimmed after the minimum, and again because the third collection freed backing stores.
      expect(chained.state.calls).toEqual(['gc', 'gc', 'trim', 'gc', 'trim']);
      expect(record.details).toMatchObject({ trims: 2 });
      const endless = setup({ maxCollections: 3 }, Array(5).fill({ heap: 10 * MiB, external: 0 }));
      await endless.run();
      expect(endless.state.collections).toBe(3);
    });

    it('misses the swept Buffers with a single collection: why the minimum is two', async () => {
      const one = setup({ minCollections: 1 }, [
        { heap: 0.5 * MiB, external: 0 },
        { heap: 0, external: 64 * MiB },
      ]);
      const record = await one.run();
      expect(one.state.collections).toBe(1);
      expect(record.freedBytes).toBe(0.5 * MiB);
    });

    it('is rate-limited across the actions of one gate, in scheduler time', async () => {
      const fake = fakeProcess(BUFFERS);
      const gate = new GcGate();
      const scheduler = new ManualScheduler(0);
      const runner = new ActionRunner({ scheduler });
      const limit = { cgroup: 'none', minInterval: '1s', maxWait: 0 } as const;
      const a = new GcAction(options(limit), gate, fake.environment);
      const b = new GcAction(options(limit), gate, fake.environment);
      await runner.run(a, { level: 'critical' });
      scheduler.advanceBy(999);
      const limited = await runner.run(b, { level: 'critical' });
      expect(limited.summary).toBe(
        'skipped: the last collection was 999 ms ago (minInterval 1000 ms), and the limit opens in 1 ms, later than maxWait 0 ms',
      );
      expect(limited.details).toEqual({ rateLimited: true });
      scheduler.advanceBy(1);
      await runner.run(b, { level: 'critical' });
      expect(fake.state.calls.filter((c) => c === 'trim')).toHaveLength(2);
    });

    it('waits for the rate limit when it opens within maxWait, in scheduler time', async () => {
      const fake = fakeProcess(BUFFERS);
      const gate = new GcGate();
      const scheduler = new ManualScheduler(0);
      const runner = new ActionRunner({ scheduler });
      const action = new GcAction(
        options({ cgroup: 'none', minInterval: '300ms', maxWait: '1s' }),
        gate,
        fake.environment,
      );
      await runner.run(action, { level: 'critical' });
      scheduler.advanceBy(100);
      let done = false;
      const waiting = runner.run(action, { level: 'critical' }).then((record) => ((done = true), record));
      await Promise.resolve();
      scheduler.advanceBy(199);
      await Promise.resolve();
      expect(done).toBe(false);
      expect(fake.state.calls.filter((c) => c === 'trim')).toHaveLength(1);
      scheduler.advanceBy(1);
      const record = await waiting;
      expect(record.details).toMatchObject({ waitedMs: 200 });
      expect(record.summary).toContain('after waiting 200 ms for the rate limit');
      expect(fake.state.calls.filter((c) => c === 'trim')).toHaveLength(2);
    });

    it('stops waiting for the rate limit when the run is aborted', async () => {
      const fake = fakeProcess(BUFFERS);
      const scheduler = new ManualScheduler(0);
      const runner = new ActionRunner({ scheduler, timeout: 50 });
      const action = new GcAction(
        options({ cgroup: 'none', minInterval: '300ms' }),
        new GcGate(),
        fake.environment,
      );
      await runner.run(action, { level: 'critical' });
      const waiting = runner.run(action, { level: 'critical' });
      await Promise.resolve();
      scheduler.advanceBy(50);
      const record = await waiting;
      expect(record.status).not.toBe('ok');
      scheduler.advanceBy(1000);
      expect(fake.state.calls.filter((c) => c === 'trim')).toHaveLength(1);
    });

    it('keeps forced collections to maxTimeShare of the time, measured on the environment clock', async () => {
      // Every collection takes 30 ms of the environment's clock (two per run here: 60 ms a run).
      const slow = slowCollections(30);
      const scheduler = new ManualScheduler(0);
      const runner = new ActionRunner({ scheduler });
      const action = new GcAction(
        options({ cgroup: 'none', maxTimeShare: 0.25, maxWait: 0 }),
        new GcGate(),
        slow,
      );
      const first = await runner.run(action, { level: 'medium' });
      expect(first.details).toMatchObject({ ms: { total: 60 } });
      // 60 ms is a quarter of 240 ms: at 239 ms a run at medium is skipped, at 240 ms it runs.
      scheduler.advanceBy(239);
      const limited = await runner.run(action, { level: 'medium' });
      expect(limited.summary).toBe(
        'skipped: the last collection was 239 ms ago (it took 60 ms; maxTimeShare 0.25: collections take at most 25% of the time), and the limit opens in 1 ms, later than maxWait 0 ms',
      );
      expect(limited.details).toEqual({ rateLimited: true });
      scheduler.advanceBy(1);
      expect((await runner.run(action, { level: 'medium' })).details).not.toHaveProperty('rateLimited');
    });

    it('with maxTimeShare 1, a run may follow the last one as soon as it ended (and minInterval passed)', async () => {
      const slow = slowCollections(30);
      const scheduler = new ManualScheduler(0);
      const runner = new ActionRunner({ scheduler });
      const action = new GcAction(options({ cgroup: 'none', maxTimeShare: 1 }), new GcGate(), slow);
      await runner.run(action, { level: 'medium' });
      scheduler.advanceBy(100);
      // 60 ms of collecting in the last 100 ms: over 0.5, within 1.
      expect((await runner.run(action, { level: 'medium' })).details).not.toHaveProperty('rateLimited');
    });

    it('in a dry run samples memory and collects nothing', async () => {
      const { run, state } = setup();
      const record = await run(true);
      expect(record.summary).toBe('would run 2-4 full collections and malloc_trim(0)');
      expect(state.calls).toEqual([]);
    });

    it('says why malloc_trim did nothing where it is unavailable, and can be told not to trim', async () => {
      const fake = fakeProcess(BUFFERS, { available: false, released: false, reason: 'not glibc (musl)' });
      const record = await new ActionRunner().run(
        new GcAction(options({ cgroup: 'none' }), new GcGate(), fake.environment),
        {
          level: 'critical',
        },
      );
      expect(record.summary).toContain('malloc_trim unavailable (not glibc (musl))');
      const off = setup({ trim: false });
      const untrimmed = await off.run();
      expect(off.state.calls).not.toContain('trim');
      expect(untrimmed.summary).toContain('malloc_trim off');
    });

    it('reports a missing gc() and still trims', async () => {
      const fake = fakeProcess(BUFFERS);
      fake.environment.obtainGc = () => ({ available: false, reason: 'flags are frozen' });
      const runner = new ActionRunner();
      const errors: string[] = [];
      runner.errors$.subscribe((e) => errors.push(e.message));
      const record = await runner.run(
        new GcAction(options({ cgroup: 'none' }), new GcGate(), fake.environment),
        {
          level: 'critical',
        },
      );
      expect(record.status).toBe('ok');
      expect(errors).toEqual(['gc: cannot collect garbage, trimming only: flags are frozen']);
      expect(fake.state.calls).toEqual(['trim']);
    });

    it('reads the cgroup usage of a given directory', async () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'gc-cgroup-'));
      writeFileSync(path.join(dir, 'memory.usage_in_bytes'), '123456\n');
      const real = new GcAction(options({ cgroup: dir, minCollections: 1, maxCollections: 1, trim: false }));
      const record = await new ActionRunner().run(real, { level: 'critical' });
      rmSync(dir, { recursive: true });
      expect(record.details).toMatchObject({
        cgroup: `${dir}/memory.usage_in_bytes`,
        before: { cgroup: 123456 },
      });
    });
  });

  describe('with the real V8 and glibc', () => {
    it('hands the backing stores of dropped Buffers back to the process in one collection, sweeping synchronously', async () => {
      let cache: Buffer[] | undefined = Array.from({ length: 512 }, () => Buffer.alloc(64 * 1024, 1));
      const held = process.memoryUsage().arrayBuffers;
      expect(cache.length).toBe(512);
      cache = undefined;
      const record = await new ActionRunner().run(
        new GcAction(options({ cgroup: 'none', maxCollections: 1 })),
        {
          level: 'critical',
        },
      );
      const details = record.details as { after: MemorySample; sweeping: string };
      expect(details.sweeping).toBe('synchronous');
      // 32 MiB of backing stores were held; after one collection V8 no longer holds them.
      expect(held - details.after.arrayBuffers).toBeGreaterThan(30 * MiB);
    });
  });
});

describe('gc options', () => {
  it('defaults', () => {
    expect(options()).toEqual({
      sweep: 'synchronous',
      maxCollections: 4,
      settleBytes: MiB,
      trim: true,
      minInterval: 100,
      maxTimeShare: 0.5,
      maxWait: 1000,
      cgroup: 'self',
    });
  });

  it.each([
    [{ minCollections: 0 }, 'minCollections'],
    [{ minCollections: 5, maxCollections: 3 }, 'minCollections'],
    [{ cgroup: 'relative/path' }, 'cgroup'],
    [{ sweep: 'lazy' }, 'sweep'],
    [{ minInterval: 'soon' }, 'minInterval'],
    [{ maxTimeShare: 0 }, 'maxTimeShare'],
    [{ maxTimeShare: 1.5 }, 'maxTimeShare'],
    [{ collect: true }, ''],
  ])('rejects %p at %p', (input, path) => {
    expect(firstIssuePath(gcOptionsSchema, input)).toBe(path);
  });
});

describe('gcModule', () => {
  it('provides the gc factory, whose actions share one rate limit', async () => {
    const { actions } = loadPlugins([gcModule]);
    expect(actions.map((a) => a.id)).toEqual(['gc']);
    const [factory] = actions;
    const scheduler = new ManualScheduler(0);
    const runner = new ActionRunner({ scheduler });
    const opts = options({
      cgroup: 'none',
      trim: false,
      minCollections: 1,
      maxCollections: 1,
      minInterval: '10s',
    });
    expect((await runner.run(factory.create(opts), { level: 'critical' })).details).not.toHaveProperty(
      'rateLimited',
    );
    expect((await runner.run(factory.create(opts), { level: 'critical' })).details).toEqual({
      rateLimited: true,
    });
  });
});
