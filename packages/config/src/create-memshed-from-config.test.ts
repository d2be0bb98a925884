import {
  PressureSourceFactory,
  SheddingActionFactory,
  type ActionContext,
  type ActionRunRecord,
  type PressureLevel,
} from '@memshed/core';
import { FakeSource, ManualScheduler } from '@memshed/core/testing';
import { ContainerModule } from '@memshed/core/inversify';
import { z } from '@memshed/options';
import { createMemshedFromConfig, type ConfiguredMemshed } from './create-memshed-from-config';
import type { MemshedConfigInput } from './config-schema';
import type { PolicyDecision } from '@memshed/policy';
import { firstValueFrom, toArray } from 'rxjs';

/** What the test actions saw, in order. */
interface Run {
  action: string;
  time: number;
  level: string;
  dryRun: boolean;
  policy?: string;
  aborted?: unknown;
}

const workOptions = z.strictObject({
  took: z.number().min(0).default(0),
  outcome: z.enum(['continue', 'stop']).default('continue'),
  // Enough for the policy runner to count a run as having freed memory (no backoff).
  freed: z.number().default(1024 * 1024),
});

/**
 * A source the test drives (`fakes[i].signal(...)`) and an action `work` that takes `took` ms of
 * virtual time, honours its signal and records what it saw.
 */
function testPlugins(runs: Run[], fakes: FakeSource[]): ContainerModule {
  return new ContainerModule(({ bind }) => {
    bind(PressureSourceFactory).toConstantValue({
      id: 'manual',
      description: 'driven by the test',
      optionsSchema: z.strictObject({}),
      create: () => {
        const fake = new FakeSource('manual');
        fakes.push(fake);
        return fake;
      },
    });
    bind(SheddingActionFactory).toConstantValue({
      id: 'work',
      description: 'takes virtual time',
      optionsSchema: workOptions,
      create: (options: z.output<typeof workOptions>) => ({
        id: 'work',
        async run(context: ActionContext) {
          const { scheduler } = context;
          const run: Run = {
            action: 'work',
            time: scheduler.now(),
            level: context.level,
            dryRun: context.dryRun,
            policy: context.policy,
          };
          runs.push(run);
          if (options.took > 0) {
            await new Promise<void>((resolve, reject) => {
              const timer = scheduler.schedule(() => resolve(), options.took);
              context.signal.addEventListener('abort', () => {
                timer.unsubscribe();
                run.aborted = context.signal.reason;
                reject(context.signal.reason);
              });
            });
          }
          return { freedBytes: context.dryRun ? 0 : options.freed, outcome: options.outcome };
        },
      }),
    });
  });
}

interface Harness {
  memshed: ConfiguredMemshed;
  clock: ManualScheduler;
  runs: Run[];
  decisions: PolicyDecision[];
  records: ActionRunRecord[];
  signal(level: PressureLevel, scope?: string): void;
  /** Moves virtual time in 10 ms steps, letting promises settle at each. */
  advance(ms: number): Promise<void>;
}

async function start(
  config: Omit<MemshedConfigInput, 'sources'>,
  options: { dryRun?: boolean } = {},
): Promise<Harness> {
  const runs: Run[] = [];
  const fakes: FakeSource[] = [];
  const clock = new ManualScheduler();
  const memshed = await createMemshedFromConfig({
    modules: [testPlugins(runs, fakes)],
    config: { recovery: { quiet: '1s' }, ...config, sources: [{ use: 'manual' }] },
    scheduler: clock,
    ...options,
  });
  const decisions: PolicyDecision[] = [];
  const records: ActionRunRecord[] = [];
  memshed.decisions$.subscribe((d) => decisions.push(d));
  memshed.actions$.subscribe((r) => records.push(r));
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return {
    memshed,
    clock,
    runs,
    decisions,
    records,
    signal: (level, scope = '/') => fakes[0].signal(level, scope),
    async advance(ms) {
      const end = clock.now() + ms;
      await settle();
      while (clock.now() < end) {
        clock.advanceTo(Math.min(end, clock.now() + 10));
        await settle();
      }
    },
  };
}

/** Signals `level` every 100 ms for `ms` of virtual time (the state holds). */
async function hold(h: Harness, level: PressureLevel, ms: number, scope = '/'): Promise<void> {
  for (let t = 0; t < ms; t += 100) {
    h.signal(level, scope);
    await h.advance(100);
  }
}

const work = (withOptions: Record<string, unknown> = {}) => ({ use: 'work', with: withOptions });

describe(createMemshedFromConfig, () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.memshed.stop();
    harness = undefined;
  });

  it('runs a policy once the level has held for `for`, not before', async () => {
    const h = (harness = await start({
      policies: [{ name: 'p', when: { level: 'medium', for: '2s' }, do: [work()] }],
    }));
    await hold(h, 'medium', 1900);
    expect(h.runs).toEqual([]);
    h.signal('medium'); // the last signal: no new one after the run, so no second run
    await h.advance(200);
    expect(h.runs.map((r) => [r.time, r.level, r.policy])).toEqual([[2000, 'medium', 'p']]);
    expect(h.decisions.map((d) => [d.type, d.time])).toEqual([
      ['armed', 0],
      ['fired', 2000],
      ['completed', 2000],
    ]);
  });

  it('does not run when the state falls below the level before `for` (recovery)', async () => {
    const h = (harness = await start({
      policies: [{ name: 'p', when: { level: 'medium', for: '2s' }, do: [work()] }],
    }));
    h.signal('critical');
    await h.advance(5000); // quiet 1s: critical -> medium -> low at 2s, normal at 3s
    expect(h.runs).toEqual([]);
    expect(h.decisions.map((d) => [d.type, d.time])).toEqual([
      ['armed', 0],
      ['disarmed', 2000],
    ]);
  });

  it('runs at a higher level too, again on each new signal while it holds, and anew next episode', async () => {
    const h = (harness = await start({ policies: [{ name: 'p', when: { level: 'low' }, do: [work()] }] }));
    await hold(h, 'critical', 300);
    expect(h.runs.map((r) => r.time)).toEqual([0, 100, 200]);
    await h.advance(5000); // no signal: no run; back to normal
    expect(h.runs.map((r) => r.time)).toEqual([0, 100, 200]);
    h.signal('low');
    await h.advance(100);
    expect(h.runs.map((r) => r.time)).toEqual([0, 100, 200, 5300]);
    const fired = h.decisions.flatMap((d) => (d.type === 'fired' ? [d.reason] : []));
    expect(fired).toEqual(['episode', 'signal', 'signal', 'episode']);
  });

  it('runs again every cooldown after a run ends while the condition holds', async () => {
    const h = (harness = await start({
      policies: [{ name: 'p', when: { level: 'critical' }, cooldown: '1s', do: [work({ took: 200 })] }],
    }));
    await hold(h, 'critical', 3500);
    // Runs end at 200, 1400, 2600: the next starts 1 s after each end.
    expect(h.runs.map((r) => r.time)).toEqual([0, 1200, 2400]);
  });

  it('never overlaps a chain with itself, and a new episode waits for the cooldown', async () => {
    const h = (harness = await start({
      policies: [{ name: 'p', when: { level: 'critical' }, cooldown: '5s', do: [work({ took: 1000 })] }],
    }));
    await hold(h, 'critical', 1500);
    expect(h.runs.map((r) => r.time)).toEqual([0]);
    await h.advance(1500); // the state left critical at 2400 (quiet 1s after the last signal)
    await hold(h, 'critical', 3500); // a new episode from 3000; the cooldown ends at 1000 + 5000
    expect(h.runs.map((r) => r.time)).toEqual([0, 6000]);
  });

  it("runs the chain in order and stops it at an action's `stop` outcome", async () => {
    const h = (harness = await start({
      policies: [
        {
          name: 'p',
          when: { level: 'medium' },
          do: [work({ freed: 1 }), work({ outcome: 'stop', freed: 2 }), work({ freed: 3 })],
        },
      ],
    }));
    await hold(h, 'medium', 100);
    expect(h.records.map((r) => [r.status, r.freedBytes, r.chain?.index])).toEqual([
      ['ok', 1, 0],
      ['ok', 2, 1],
    ]);
    const completed = h.decisions.find((d) => d.type === 'completed');
    expect(completed?.type === 'completed' && completed.chain.ended).toBe('stopped');
  });

  it('dry-runs per policy, for the whole config, and when forced', async () => {
    const policies = [
      { name: 'wet', when: { level: 'low' as const }, do: [work()] },
      { name: 'dry', when: { level: 'low' as const }, dryRun: true, do: [work({ took: 1 })] },
    ];
    let h = (harness = await start({ policies }));
    await hold(h, 'low', 100);
    expect(h.runs.map((r) => [r.policy, r.dryRun]).sort()).toEqual([
      ['dry', true],
      ['wet', false],
    ]);
    await h.memshed.stop();

    h = harness = await start({ policies, dryRun: true });
    await hold(h, 'low', 100);
    expect(h.runs.map((r) => r.dryRun)).toEqual([true, true]);
    await h.memshed.stop();

    h = harness = await start({ policies: [{ ...policies[1], dryRun: false }] }, { dryRun: true });
    await hold(h, 'low', 100);
    expect(h.runs.map((r) => r.dryRun)).toEqual([true]);
  });

  it('watches only its scope (and below) when it names one', async () => {
    const h = (harness = await start({
      policies: [{ name: 'app', when: { level: 'medium', scope: '/app' }, do: [work()] }],
    }));
    await hold(h, 'critical', 500, '/other');
    expect(h.runs).toEqual([]);
    await hold(h, 'medium', 100, '/app/worker');
    expect(h.runs).toHaveLength(1);
    const fired = h.decisions.find((d) => d.type === 'fired');
    expect(fired?.type === 'fired' && fired.trigger?.scope).toBe('/app/worker');
  });

  it('applies the per-action timeout and goes on with the chain', async () => {
    const h = (harness = await start({
      policies: [
        { name: 'p', when: { level: 'low' }, do: [{ ...work({ took: 10_000 }), timeout: '1s' }, work()] },
      ],
    }));
    await hold(h, 'low', 1500);
    expect(h.records.map((r) => [r.status, r.finishedAt])).toEqual([
      ['timeout', 1000],
      ['ok', 1000],
    ]);
  });

  it('on stop, lets running actions finish within the grace period, then cancels them', async () => {
    const h = (harness = await start({
      policies: [{ name: 'p', when: { level: 'low' }, do: [work({ took: 10_000 })] }],
    }));
    await hold(h, 'low', 100);
    expect(h.memshed.policies.busy).toBe(true);
    let stopped = false;
    const stopping = h.memshed.stop({ grace: 2000 }).then(() => (stopped = true));
    await h.advance(1900);
    expect(stopped).toBe(false);
    await h.advance(200);
    await stopping;
    expect(h.records.map((r) => [r.status, r.finishedAt])).toEqual([['cancelled', 2100]]);
    expect(h.runs[0].aborted).toBeDefined();
    expect(h.memshed.sources.map((s) => s.state)).toEqual(['stopped']);
  });

  it('on stop, waits for a chain that ends within the grace period', async () => {
    const h = (harness = await start({
      policies: [{ name: 'p', when: { level: 'low' }, do: [work({ took: 500 })] }],
    }));
    await hold(h, 'low', 100);
    const stopping = h.memshed.stop({ grace: 5000 });
    await h.advance(500);
    await stopping;
    expect(h.records.map((r) => r.status)).toEqual(['ok']);
  });

  it("replaces the config's sources with `sources`, validated the same way", async () => {
    const fakes: FakeSource[] = [];
    const modules = [
      testPlugins([], fakes),
      new ContainerModule(({ bind }) => {
        bind(PressureSourceFactory).toConstantValue({
          id: 'other',
          description: 'another source',
          optionsSchema: z.strictObject({ every: z.number().default(1) }),
          create: () => new FakeSource('other'),
        });
      }),
    ];
    const config = { sources: [{ use: 'manual' }] };
    const replaced = await createMemshedFromConfig({ modules, config, sources: [{ use: 'other' }] });
    expect(replaced.sources.map((source) => [source.id, source.state])).toEqual([['other', 'running']]);
    expect(fakes).toEqual([]);
    await replaced.stop();
    await expect(
      createMemshedFromConfig({ modules, config, sources: [{ use: 'other', with: { every: 'often' } }] }),
    ).rejects.toThrow(/every/);
  });

  it('starts an optional source of the config as optional: skipped where it is unavailable, no error', async () => {
    const modules = [
      testPlugins([], []),
      new ContainerModule(({ bind }) => {
        bind(PressureSourceFactory).toConstantValue({
          id: 'cgroup-v1',
          description: 'unavailable here',
          optionsSchema: z.strictObject({}),
          create: () =>
            new FakeSource('cgroup-v1', { available: false, reason: 'the host has cgroup v2', hint: 'psi' }),
        });
      }),
    ];
    const memshed = await createMemshedFromConfig({
      modules,
      config: { sources: [{ use: 'cgroup-v1', optional: true }, { use: 'manual' }] },
    });
    const errors = firstValueFrom(memshed.errors$.pipe(toArray()));
    expect(memshed.config.sources.map((source) => [source.use, source.optional])).toEqual([
      ['cgroup-v1', true],
      ['manual', false],
    ]);
    expect(memshed.sources.map((source) => [source.id, source.state, source.optional, source.error])).toEqual(
      [
        ['cgroup-v1', 'unavailable', true, undefined],
        ['manual', 'running', false, undefined],
      ],
    );
    await memshed.stop();
    expect(await errors).toEqual([]);
  });

  it('shares one action instance between steps with the same plugin and options', async () => {
    const h = (harness = await start({
      policies: [
        { name: 'a', when: { level: 'low' }, do: [work({ took: 1000 })] },
        { name: 'b', when: { level: 'low' }, do: [work({ took: 1000 })] },
      ],
    }));
    h.signal('low');
    await h.advance(100);
    // Both fire at once; the second finds the shared instance running and skips it.
    expect(h.records.map((r) => [r.policy, r.status, r.skipped])).toEqual([['b', 'skipped', 'running']]);
    await h.advance(1000);
    expect(h.records.map((r) => [r.policy, r.status])).toEqual([
      ['b', 'skipped'],
      ['a', 'ok'],
    ]);
  });
});
