import { createMemshed } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { actionFactoriesOf, attachPolicies, policySchema } from '@memshed/policy';
import { validateScenario } from './scenario-loader';
import {
  SIMULATED_ACTION_MODULES,
  SimulatedHooks,
  scenarioPolicySpecs,
  simulatedGcModule,
} from './simulated-hooks';
import { SimulatedMachine } from './simulated-machine';

const MIB = 1024 ** 2;

/** Lets the actions' promises settle: the hooks are synchronous, so one turn of the loop is enough. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * A machine and memshed (engine, monitor, the real policy runner and action plugins) on one virtual
 * clock; pressure is signalled by hand.
 */
async function setUp(policies: unknown[]) {
  const scenario = validateScenario(
    {
      groups: { app: { limit: '256MiB' } },
      workloads: [
        {
          name: 'web',
          group: 'app',
          heap: '16MiB',
          caches: [
            { name: 'thumbnails', priority: 'low', size: '32MiB', max: '32MiB' },
            { name: 'sessions', priority: 'normal', size: '8MiB', max: '8MiB' },
            { name: 'config', priority: 'background', keep: true, size: '4MiB', max: '4MiB' },
          ],
          services: [
            { name: 'analytics', priority: 'low', size: '24MiB' },
            { name: 'reports', priority: 'normal', size: '12MiB' },
            { name: 'api', priority: 'high', size: '16MiB' },
            { name: 'indexer', priority: 'background', essential: true, size: '8MiB' },
          ],
        },
      ],
      policies,
    },
    'policies.yaml',
  );
  const scheduler = new ManualScheduler();
  const machine = new SimulatedMachine(scenario, { seed: 1 });
  machine.start();
  machine.drain();
  const memshed = await createMemshed({
    modules: [...SIMULATED_ACTION_MODULES, simulatedGcModule(() => machine)],
    scheduler,
    recovery: { quiet: 1000 },
  });
  const hooks = new SimulatedHooks(machine, memshed.container);
  const runner = attachPolicies(memshed, scenarioPolicySpecs(scenario), {
    quiet: 1000,
    factories: hooks.attributeAll(actionFactoriesOf(memshed.container)),
  });
  runner.start();
  const actions: { action: string; target: string; by?: string }[] = [];
  machine.activity$.subscribe((activity) => {
    if (activity.type === 'action') actions.push(activity);
  });
  const web = machine.workload('web')!;
  const advanceBy = async (ms: number) => {
    scheduler.advanceBy(ms);
    await settle();
  };
  const signal = async (level: 'low' | 'medium' | 'critical') => {
    memshed.engine.node('/sim/app').signal(level);
    await advanceBy(0);
  };
  /** Keeps the state at `level` for `ms`: an event every 250 ms (the quiet period is 1 s). */
  const hold = async (level: 'low' | 'medium' | 'critical', ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      await signal(level);
      await advanceBy(Math.min(250, ms - t));
    }
  };
  const stop = async () => {
    await runner.stop();
    await memshed.stop();
  };
  return { machine, web, signal, hold, advanceBy, actions, stop };
}

describe(SimulatedHooks, () => {
  describe('cache-purge', () => {
    it("purges at medium half of the caches of priority low and below (the plugin's defaults), after `for`", async () => {
      const { web, hold, advanceBy, actions, stop } = await setUp([
        { name: 'trim', when: { level: 'medium', for: '2s' }, do: [{ use: 'cache-purge' }] },
      ]);
      await hold('medium', 1999);
      expect(web.cache('thumbnails')!.bytes).toBe(32 * MIB);
      await advanceBy(1);
      expect(web.cache('thumbnails')!.bytes).toBe(16 * MIB);
      expect(web.cache('sessions')!.bytes).toBe(8 * MIB);
      expect(web.cache('config')!.bytes).toBe(4 * MIB);
      // The hook knows which policy the action ran for.
      expect(actions).toEqual([
        expect.objectContaining({ action: 'cache-purge', target: 'thumbnails', by: 'trim' }),
      ]);
      await stop();
    });

    it('waits out the cooldown before running again', async () => {
      const { web, signal, hold, advanceBy, stop } = await setUp([
        { name: 'trim', when: { level: 'medium' }, do: [{ use: 'cache-purge' }], cooldown: '10s' },
      ]);
      await signal('medium');
      expect(web.cache('thumbnails')!.bytes).toBe(16 * MIB);
      await hold('medium', 9800);
      expect(web.cache('thumbnails')!.bytes).toBe(16 * MIB);
      // Still at medium when the cooldown ends: it runs again at 10 s, without waiting for an event.
      await advanceBy(200);
      expect(web.cache('thumbnails')!.bytes).toBe(8 * MIB);
      await stop();
    });

    it('clears every cache but the kept ones at critical', async () => {
      const { web, signal, stop } = await setUp([
        { name: 'all', when: { level: 'critical' }, do: [{ use: 'cache-purge' }] },
      ]);
      await signal('medium');
      expect(web.cache('thumbnails')!.bytes).toBe(32 * MIB);
      await signal('critical');
      expect(web.caches.map((c) => c.bytes)).toEqual([0, 0, 4 * MIB]);
      await stop();
    });
  });

  describe('service-shutdown', () => {
    it('stops the running, non-essential services below the threshold, and restarts them after `normal`', async () => {
      const { machine, web, signal, advanceBy, actions, stop } = await setUp([
        {
          name: 'drop',
          when: { level: 'critical' },
          do: [{ use: 'service-shutdown', with: { below: 'normal', restart: { after: '5s' } } }],
        },
      ]);
      const usage = () => machine.group('app')!.usage;
      const before = usage();
      await signal('critical');
      const running = () => web.services.filter((s) => s.running).map((s) => s.name);
      expect(running()).toEqual(['reports', 'api', 'indexer']);
      expect(before - usage()).toBe((24 * MIB) / 4096);
      // critical -> medium -> low -> normal: one quiet second each, then 5 s of normal.
      await advanceBy(3000);
      expect(running()).toEqual(['reports', 'api', 'indexer']);
      await advanceBy(5000);
      expect(running()).toEqual(['analytics', 'reports', 'api', 'indexer']);
      machine.drain();
      expect(usage()).toBe(before);
      // The restart is the policy's too, though it runs from a timer long after the chain ended.
      expect(actions.map(({ action, target, by }) => [action, target, by])).toEqual([
        ['service-shutdown', 'analytics', 'drop'],
        ['service-start', 'analytics', 'drop'],
      ]);
      await stop();
    });

    it('uses the level thresholds by default: critical stops everything below high', async () => {
      const { web, signal, stop } = await setUp([
        { name: 'drop', when: { level: 'critical' }, do: [{ use: 'service-shutdown' }] },
      ]);
      await signal('critical');
      expect(web.services.filter((s) => s.running).map((s) => s.name)).toEqual(['api', 'indexer']);
      await stop();
    });
  });

  describe('scenarioPolicySpecs', () => {
    it("checks a policy built in code against the action's own schema, naming the key path", () => {
      const policy = policySchema.parse({
        when: { level: 'medium' },
        do: [{ use: 'gc' }, { use: 'cache-purge', with: { fraction: 2 } }],
      });
      expect(() => scenarioPolicySpecs({ policies: [policy] })).toThrow(
        /^Scenario policies\[0\]\.do\[1\]\.with\.fraction: /,
      );
      const [spec] = scenarioPolicySpecs({ policies: [{ ...policy, do: [policy.do[0]] }] });
      // Defaults applied by the gc plugin's own schema.
      expect(spec).toMatchObject({
        name: 'policies[0]',
        do: [{ use: 'gc', options: { maxCollections: 4 } }],
      });
    });
  });
});
