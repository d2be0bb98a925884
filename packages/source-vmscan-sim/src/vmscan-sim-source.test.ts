import {
  MemshedError,
  VMPRESSURE_WINDOW,
  createEngine,
  loadPlugins,
  silentLogger,
  validateOptions,
  type PressureEvent,
  type PressureNode,
  type PressureSink,
} from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import vmscanSimModule from './index';
import { loadScenario } from './scenario-loader';
import { VmscanSimSource } from './vmscan-sim-source';

function sinkFor(engine: ReturnType<typeof createEngine>, wrap = (node: PressureNode) => node) {
  const errors: unknown[] = [];
  const sink: PressureSink = {
    source: 'vmscan-sim',
    scheduler: engine.scheduler,
    logger: silentLogger,
    node: (path) => wrap(engine.node(path, 'vmscan-sim')),
    error: (error) => errors.push(error),
  };
  return { sink, errors };
}

/** The kernel's vmpressure_calc_level percentage, in unsigned integer arithmetic, written independently. */
function kernelPercent(scanned: number, reclaimed: number): number {
  const s = BigInt(scanned);
  const r = BigInt(reclaimed);
  if (r >= s) return 0;
  const scale = s + r;
  const pressure = scale - (r * scale) / s;
  return Number((pressure * 100n) / scale);
}

describe('the vmscan-sim plugin', () => {
  const [factory] = loadPlugins([vmscanSimModule]).sources;

  it('is the vmscan-sim plugin, with defaulted options', () => {
    expect(factory.id).toBe('vmscan-sim');
    expect(validateOptions(factory.optionsSchema, undefined)).toEqual({
      ok: true,
      value: { scenario: 'steady', root: '/sim', speed: 1 },
    });
    expect(validateOptions(factory.optionsSchema, { scenario: 'ramp', sede: 1 })).toMatchObject({
      ok: false,
      issues: [{ path: '' }],
    });
  });

  it('loads the scenario when creating, so that a bad name fails before anything starts', () => {
    expect(factory.create({ scenario: 'ramp', root: '/sim', speed: 1, seed: 9 })).toMatchObject({
      seed: 9,
      scenario: { name: 'ramp' },
    });
    expect(() => factory.create({ scenario: 'rmp', root: '/sim', speed: 1 })).toThrow(MemshedError);
  });

  it('is bound by the default-exported module', () => {
    const { sources } = loadPlugins([vmscanSimModule]);
    expect(sources.map((s) => s.id)).toEqual(['vmscan-sim']);
  });
});

describe(VmscanSimSource, () => {
  describe('.availability', () => {
    it('is always available: it needs nothing from the machine', () => {
      const source = new VmscanSimSource({ scenario: loadScenario('ramp'), seed: 3 });
      expect(source.availability()).toEqual({
        available: true,
        detail: "simulated machine, scenario 'ramp', seed 3",
      });
    });
  });

  describe('.start', () => {
    it('creates a node per group and ticks on the sink scheduler until stopped', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const { sink, errors } = sinkFor(engine);
      const source = new VmscanSimSource({ scenario: loadScenario('neighbours') });
      source.start(sink);
      expect(engine.paths()).toEqual(['/', '/sim', '/sim/pod', '/sim/pod/web', '/sim/pod/batch']);
      scheduler.advanceBy(30_000);
      expect(source.machine!.time).toBe(30_000);
      expect(source.machine!.group('pod')!.usage).toBeGreaterThan(0);
      expect(() => source.start(sink)).toThrow('already started');
      source.stop();
      source.stop();
      scheduler.advanceBy(10_000);
      expect(source.machine!.time).toBe(30_000);
      expect(scheduler.pending).toBe(0);
      expect(errors).toEqual([]);
    });

    it('runs model time at `speed` times the scheduler time', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const source = new VmscanSimSource({ scenario: loadScenario('steady'), speed: 10 });
      source.start(sinkFor(engine).sink);
      scheduler.advanceBy(3000);
      expect(source.machine!.time).toBe(30_000);
      source.stop();
    });

    it("feeds the engine account() calls that reproduce the kernel's arithmetic, window by window", () => {
      // Record, in one sequence, what reclaim tells each node and what the engine delivers there.
      type Entry =
        | { kind: 'account'; scanned: number; reclaimed: number; tree: boolean }
        | { kind: 'prio'; priority: number }
        | { kind: 'event'; event: PressureEvent };
      const logs = new Map<string, Entry[]>();
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const spy = (node: PressureNode): PressureNode => {
        const log: Entry[] = [];
        logs.set(node.path, log);
        node.listen('low', 'local').subscribe((event) => log.push({ kind: 'event', event }));
        return {
          ...node,
          path: node.path,
          account(scanned: number, reclaimed: number, tree = true) {
            log.push({ kind: 'account', scanned, reclaimed, tree });
            node.account(scanned, reclaimed, tree);
          },
          accountPriority(priority: number) {
            log.push({ kind: 'prio', priority });
            node.accountPriority(priority);
          },
        } as PressureNode;
      };
      const source = new VmscanSimSource({ scenario: loadScenario('ramp'), seed: 5 });
      source.start(sinkFor(engine, spy).sink);
      scheduler.advanceTo(600_000);
      source.stop();

      const log = logs.get('/sim/app')!;
      // Hundreds of thousands of entries: check by hand, keep the first problem, expect once.
      let problem: string | undefined;
      const check = (ok: boolean, what: () => string) => {
        if (!ok && problem === undefined) problem = what();
      };
      const levels = new Set<string>();
      let windows = 0;
      let scanned = 0;
      let reclaimed = 0;
      // Within a reclaim run, priorities count down by one from 12, with one userland account per pass.
      let expectedPriority = 12;
      let runReclaimed = 0;
      let lastPriority = -1;
      let treeAccountsInPass = 1;
      for (let i = 0; i < log.length; i++) {
        const entry = log[i];
        if (entry.kind === 'prio') {
          check(
            treeAccountsInPass === 1,
            () => `entry ${i}: ${treeAccountsInPass} tree accounts in the last pass`,
          );
          treeAccountsInPass = 0;
          if (entry.priority === 12 && lastPriority !== -1) {
            // The previous run ended: it had freed nr_to_reclaim (32 pages), or reached priority 0.
            check(
              runReclaimed >= 32 || lastPriority === 0,
              () => `entry ${i}: run ended early at ${lastPriority}`,
            );
            runReclaimed = 0;
            expectedPriority = 12;
          }
          check(
            entry.priority === expectedPriority,
            () => `entry ${i}: priority ${entry.priority}, expected ${expectedPriority}`,
          );
          expectedPriority--;
          lastPriority = entry.priority;
          // vmpressure_prio: at priority <= 3, one failed window.
          if (entry.priority <= 3) scanned += VMPRESSURE_WINDOW;
        } else if (entry.kind === 'account' && entry.tree) {
          treeAccountsInPass++;
          runReclaimed += entry.reclaimed;
          if (entry.scanned > 0) {
            scanned += entry.scanned;
            reclaimed += entry.reclaimed;
          }
        } else if (entry.kind === 'event') {
          // The work function took everything accounted since the last window, at least a window.
          const { event } = entry;
          const percent = kernelPercent(scanned, reclaimed);
          check(scanned >= VMPRESSURE_WINDOW, () => `event ${windows}: only ${scanned} scanned`);
          check(
            event.scanned === scanned && event.reclaimed === reclaimed,
            () => `event ${windows}: ${event.scanned}/${event.reclaimed}, accounted ${scanned}/${reclaimed}`,
          );
          check(
            event.pressure === percent,
            () => `event ${windows}: pressure ${event.pressure}, kernel ${percent}`,
          );
          const level = percent >= 95 ? 'critical' : percent >= 60 ? 'medium' : 'low';
          check(event.level === level, () => `event ${windows}: level ${event.level}, kernel ${level}`);
          check(
            event.scope === '/sim/app' && event.source === 'vmscan-sim',
            () => `event ${windows}: scope/source`,
          );
          levels.add(event.level);
          windows++;
          scanned = 0;
          reclaimed = 0;
        }
      }
      expect(problem).toBeUndefined();
      expect(windows).toBeGreaterThan(500);
      expect([...levels].sort()).toEqual(['critical', 'low', 'medium']);
      // The group's own socket-pressure accounting (tree = false) ran too.
      expect(log.some((e) => e.kind === 'account' && !e.tree && e.scanned > 0)).toBe(true);
      // Nothing reclaimed in the machine's root group: its 1 GiB limit was never reached.
      expect(logs.get('/sim')!.filter((e) => e.kind === 'prio')).toEqual([]);
    });
  });
});
