import { validateScenario } from './scenario-loader';
import type { MachineActivity } from './simulated-machine';
import { SimulatedMachine } from './simulated-machine';
import { PAGE_SIZE } from './units';

const MIB = 1024 ** 2;

function machineOf(input: Record<string, unknown>, seed = 1): SimulatedMachine {
  return new SimulatedMachine(validateScenario(input, 'test'), { seed });
}

/** A scenario of one workload, `web`, in one group, `app`, limited to `limit`. */
function webInApp(limit: string, web: Record<string, unknown>, machine?: Record<string, unknown>) {
  return {
    ...(machine === undefined ? {} : { machine }),
    groups: { app: { limit } },
    workloads: [{ name: 'web', group: 'app', ...web }],
  };
}

/** Runs the machine in 100 ms steps up to `until` ms, checking invariants after every step. */
function run(machine: SimulatedMachine, until: number, check = true): void {
  machine.start();
  machine.drain();
  for (let t = machine.time + 100; t <= until; t += 100) {
    machine.step(t);
    if (check) expectConsistent(machine);
  }
}

/** Page counters add up: groups count their descendants, owners' pages are on the lists or in swap. */
function expectConsistent(machine: SimulatedMachine): void {
  for (const group of machine.groups) {
    const children = group.children.reduce((sum, child) => sum + child.usage, 0);
    expect(group.usage).toBe(group.ownPages + children);
    expect(group.usage).toBeLessThanOrEqual(group.limit);
    for (const list of [group.file.active, group.file.inactive, group.anon.active, group.anon.inactive]) {
      expect(list.hot).toBeGreaterThanOrEqual(0);
      expect(list.cold).toBeGreaterThanOrEqual(0);
    }
  }
  for (const workload of machine.workloads) {
    const group = workload.group;
    const owners = workload.owners;
    expect(owners.reduce((sum, o) => sum + o.hot, 0)).toBe(group.anon.hot + group.swappedHot);
    expect(owners.reduce((sum, o) => sum + o.cold, 0)).toBe(group.anon.cold + group.swappedCold);
  }
  const swapped = machine.groups.reduce((sum, g) => sum + g.swappedHot + g.swappedCold, 0);
  expect(machine.swap.used).toBe(swapped);
}

describe(SimulatedMachine, () => {
  describe('.step', () => {
    it('charges hierarchically and never lets a group pass its limit', () => {
      const machine = machineOf({
        groups: { pod: { limit: '96MiB', groups: { web: { limit: '64MiB' }, batch: {} } } },
        workloads: [
          {
            name: 'web',
            group: 'pod/web',
            heap: '16MiB',
            files: { workingSet: '24MiB', size: '80MiB', reads: '20MiB/s' },
          },
          { name: 'batch', group: 'pod/batch', heap: '8MiB', files: { stream: '10MiB/s' } },
        ],
      });
      run(machine, 20_000);
      const pod = machine.group('pod')!;
      // Full, give or take the last reclaim run's batch.
      expect(pod.usage).toBeGreaterThan(pod.limit - 64);
      expect(machine.group('pod/web')!.usage).toBeLessThanOrEqual(64 * 256);
      // The batch job's streaming filled the pod: reclaim targeted the pod.
      expect(pod.stats.reclaimRuns).toBeGreaterThan(0);
    });

    it('keeps every count consistent with swap in play', () => {
      const machine = machineOf(
        webInApp(
          '48MiB',
          {
            heap: '16MiB',
            leak: '2MiB/s',
            files: { workingSet: '8MiB', size: '24MiB', reads: '8MiB/s' },
            caches: [{ name: 'c', max: '8MiB', fill: '1MiB/s', hot: 0.3 }],
          },
          { memory: '1GiB', swap: '32MiB' },
        ),
      );
      run(machine, 15_000);
      expect(machine.swap.used).toBeGreaterThan(0);
    });

    it('OOM-kills the workload when reclaim fails, and restarts it after its delay', () => {
      const machine = machineOf(
        webInApp('32MiB', { heap: '8MiB', rate: '8MiB/s', jitter: 0, restart: '1s' }),
      );
      const activity: MachineActivity[] = [];
      machine.activity$.subscribe((a) => activity.push(a));
      run(machine, 3500);
      const kills = activity.filter((a) => a.type === 'oom');
      expect(kills[0]).toMatchObject({ type: 'oom', group: '/sim/app', workload: 'web' });
      // 8 MiB + 8 MiB/s hits 32 MiB at 3 s: anonymous memory without swap cannot be reclaimed.
      expect(kills[0].time).toBeGreaterThanOrEqual(2900);
      expect(kills[0].time).toBeLessThanOrEqual(3100);
      expect(machine.group('app')!.stats.oomKills).toBe(1);
      const web = machine.workload('web')!;
      expect(web.alive).toBe(false);
      expect(machine.group('app')!.usage).toBe(0);
      run(machine, 4600);
      expect(activity.find((a) => a.type === 'restart')).toMatchObject({ workload: 'web' });
      expect(web.alive).toBe(true);
      expect(machine.group('app')!.usage).toBeGreaterThanOrEqual((8 * MIB) / PAGE_SIZE);
    });

    it('does not restart a workload whose restart is never', () => {
      const machine = machineOf(webInApp('16MiB', { heap: '8MiB', rate: '8MiB/s', restart: 'never' }));
      run(machine, 10_000);
      expect(machine.workload('web')!.alive).toBe(false);
      expect(machine.workload('web')!.restartAt).toBe(Infinity);
    });

    it('allocates a spike at its phase start and frees it at the end; settings carry over', () => {
      const machine = machineOf(
        webInApp('256MiB', {
          heap: '8MiB',
          jitter: 0,
          phases: [
            { for: '1s', rate: '1MiB/s' },
            { for: '1s', spike: '32MiB' },
            { for: '1s', label: 'after' },
          ],
        }),
      );
      const activity: MachineActivity[] = [];
      machine.activity$.subscribe((a) => activity.push(a));
      const web = machine.workload('web')!;
      run(machine, 1500);
      expect(web.spike.pages).toBe((32 * MIB) / PAGE_SIZE);
      run(machine, 2500);
      expect(web.spike.pages).toBe(0);
      // The rate of the first phase carried over: about 1 MiB/s for 2.5 s on top of the heap.
      expect(web.heap.pages * PAGE_SIZE).toBeGreaterThan(10 * MIB);
      expect(activity.filter((a) => a.type === 'phase').map((a) => a.type === 'phase' && a.phase)).toEqual([
        0, 1, 2,
      ]);
    });

    it('makes the same run for the same seed, and another for another seed', () => {
      const scenario = webInApp('64MiB', {
        heap: '40MiB',
        files: { workingSet: '20MiB', size: '40MiB', reads: '16MiB/s' },
      });
      const trace = (seed: number) => {
        const machine = machineOf(scenario, seed);
        run(machine, 10_000, false);
        const app = machine.group('app')!;
        return [app.stats.vmpressureScanned, app.stats.vmpressureReclaimed, app.stats.refaults, app.file.hot];
      };
      expect(trace(3)).toEqual(trace(3));
      expect(trace(3)).not.toEqual(trace(4));
    });
  });

  describe('shedding hooks', () => {
    const scenario = webInApp('128MiB', {
      heap: '16MiB',
      caches: [{ name: 'thumbnails', size: '24MiB', max: '32MiB', hot: 0.25 }],
      services: [{ name: 'analytics', priority: 'low', size: '20MiB' }],
    });

    it('a cache purge lowers the group usage by exactly what it frees, and is recorded', () => {
      const machine = machineOf(scenario);
      const activity: MachineActivity[] = [];
      machine.activity$.subscribe((a) => activity.push(a));
      run(machine, 100);
      const app = machine.group('app')!;
      const cache = machine.workload('web')!.cache('thumbnails')!;
      const before = app.usage;
      const freed = cache.purge(0.5, 'trim');
      expect(freed).toBe(12 * MIB);
      expect(app.usage).toBe(before - freed / PAGE_SIZE);
      expect(cache.bytes).toBe(12 * MIB);
      expect(activity.at(-1)).toMatchObject({
        type: 'action',
        action: 'cache-purge',
        target: 'thumbnails',
        freedBytes: 12 * MIB,
        by: 'trim',
      });
      expectConsistent(machine);
    });

    it('a service stop frees all its memory once; start takes it back', () => {
      const machine = machineOf(scenario);
      run(machine, 100);
      const app = machine.group('app')!;
      const service = machine.workload('web')!.service('analytics')!;
      const before = app.usage;
      expect(service.stop()).toBe(20 * MIB);
      expect(app.usage).toBe(before - (20 * MIB) / PAGE_SIZE);
      expect(service.running).toBe(false);
      expect(service.stop()).toBe(0);
      expect(service.start('restart')).toBe(true);
      machine.drain();
      expect(app.usage).toBe(before);
      expectConsistent(machine);
    });
  });
});
