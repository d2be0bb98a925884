import { PressureMonitor, createEngine } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { RehearsalPolicies } from './rehearsal-policies';
import { validateScenario } from './scenario-loader';
import { SimulatedMachine } from './simulated-machine';

const MIB = 1024 ** 2;

/** A machine, an engine and a monitor on one virtual clock; pressure is signalled by hand. */
function setUp(policies: unknown[]) {
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
  const engine = createEngine({ scheduler });
  const monitor = new PressureMonitor(engine, { quiet: 1000 });
  const machine = new SimulatedMachine(scenario, { seed: 1 });
  machine.start();
  machine.drain();
  const rehearsal = new RehearsalPolicies(scenario.policies, machine, monitor, scheduler);
  rehearsal.start();
  const web = machine.workload('web')!;
  const signal = (level: 'low' | 'medium' | 'critical') => {
    engine.node('/sim/app').signal(level);
    scheduler.flush();
  };
  /** Keeps the state at `level` for `ms`: an event every 250 ms (the quiet period is 1 s). */
  const hold = (level: 'low' | 'medium' | 'critical', ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      signal(level);
      scheduler.advanceBy(Math.min(250, ms - t));
    }
  };
  return { scheduler, machine, web, signal, hold, rehearsal };
}

describe(RehearsalPolicies, () => {
  describe('cache-purge', () => {
    it("purges at medium half of the caches of priority low and below (the plugin's defaults), after `for`", () => {
      const { scheduler, web, hold } = setUp([
        { name: 'trim', when: { level: 'medium', for: '2s' }, do: [{ use: 'cache-purge' }] },
      ]);
      hold('medium', 1999);
      expect(web.cache('thumbnails')!.bytes).toBe(32 * MIB);
      scheduler.advanceBy(1);
      expect(web.cache('thumbnails')!.bytes).toBe(16 * MIB);
      expect(web.cache('sessions')!.bytes).toBe(8 * MIB);
      expect(web.cache('config')!.bytes).toBe(4 * MIB);
    });

    it('waits out the cooldown before running again', () => {
      const { scheduler, web, signal, hold } = setUp([
        { name: 'trim', when: { level: 'medium' }, do: [{ use: 'cache-purge' }], cooldown: '10s' },
      ]);
      signal('medium');
      expect(web.cache('thumbnails')!.bytes).toBe(16 * MIB);
      hold('medium', 9800);
      expect(web.cache('thumbnails')!.bytes).toBe(16 * MIB);
      // Still at medium when the cooldown ends: it runs again at 10 s, without waiting for an event.
      scheduler.advanceBy(200);
      expect(web.cache('thumbnails')!.bytes).toBe(8 * MIB);
    });

    it('clears every cache but the kept ones at critical', () => {
      const { web, signal } = setUp([
        { name: 'all', when: { level: 'critical' }, do: [{ use: 'cache-purge' }] },
      ]);
      signal('medium');
      expect(web.cache('thumbnails')!.bytes).toBe(32 * MIB);
      signal('critical');
      expect(web.caches.map((c) => c.bytes)).toEqual([0, 0, 4 * MIB]);
    });
  });

  describe('service-shutdown', () => {
    it('stops the running, non-essential services below the threshold, and restarts them after `normal`', () => {
      const { scheduler, machine, web, signal } = setUp([
        {
          name: 'drop',
          when: { level: 'critical' },
          do: [{ use: 'service-shutdown', with: { below: 'normal', restart: { after: '5s' } } }],
        },
      ]);
      const usage = () => machine.group('app')!.usage;
      const before = usage();
      signal('critical');
      const running = () => web.services.filter((s) => s.running).map((s) => s.name);
      expect(running()).toEqual(['reports', 'api', 'indexer']);
      expect(before - usage()).toBe((24 * MIB) / 4096);
      // critical -> medium -> low -> normal: one quiet second each, then 5 s of normal.
      scheduler.advanceBy(3000);
      expect(running()).toEqual(['reports', 'api', 'indexer']);
      scheduler.advanceBy(5000);
      expect(running()).toEqual(['analytics', 'reports', 'api', 'indexer']);
      machine.drain();
      expect(usage()).toBe(before);
    });

    it('uses the level thresholds by default: critical stops everything below high', () => {
      const { web, signal } = setUp([
        { name: 'drop', when: { level: 'critical' }, do: [{ use: 'service-shutdown' }] },
      ]);
      signal('critical');
      expect(web.services.filter((s) => s.running).map((s) => s.name)).toEqual(['api', 'indexer']);
    });
  });
});
