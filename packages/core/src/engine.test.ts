import { Subscription, type Observable } from 'rxjs';
import { createEngine, normalizePath, type PressureEngine, type PressureEvent } from './engine';
import { MemshedError } from './errors';
import type { PressureLevel, PressureMode } from './levels';
import { collectEvents, createTestScheduler, ManualScheduler } from './testing';

/** A > B > C, as in Documentation/admin-guide/cgroup-v1/memory.rst, "Memory Pressure". */
function tree(engine: PressureEngine) {
  return { A: engine.node('/A', 'test'), B: engine.node('/A/B', 'test'), C: engine.node('/A/B/C', 'test') };
}

function critical(time: number, scope = '/A/B/C'): PressureEvent {
  return { level: 'critical', scope, source: 'test', time, scanned: 512, reclaimed: 0, pressure: 100 };
}

describe('createEngine', () => {
  describe('propagation (the cgroup-v1 documentation example: A > B > C, pressure in C)', () => {
    function run(
      modes: { A?: PressureMode; B?: PressureMode; C?: PressureMode },
      expected: Record<string, string>,
    ) {
      const testScheduler = createTestScheduler();
      testScheduler.run(({ expectObservable }) => {
        const engine = createEngine({ scheduler: testScheduler });
        const nodes = tree(engine);
        testScheduler.schedule(() => nodes.C.account(512, 0), 2);
        for (const name of ['A', 'B', 'C'] as const) {
          const mode = modes[name];
          if (mode)
            expectObservable(nodes[name].listen('low', mode)).toBe(expected[name], { e: critical(2) });
        }
      });
    }

    it('default: only C is notified, A and B are not (no passthrough)', () => {
      run({ A: 'default', B: 'default', C: 'default' }, { A: '---', B: '---', C: '--e' });
    });

    it('default: B is notified when C has no listener, A still not', () => {
      run({ A: 'default', B: 'default' }, { A: '---', B: '--e' });
    });

    it('default: A is notified when neither B nor C has a listener', () => {
      run({ A: 'default' }, { A: '--e' });
    });

    it('hierarchy: A, B and C are all notified', () => {
      run({ A: 'hierarchy', B: 'hierarchy', C: 'hierarchy' }, { A: '--e', B: '--e', C: '--e' });
    });

    it('hierarchy above a default listener still receives what the default listener consumed', () => {
      run({ A: 'hierarchy', B: 'default', C: 'default' }, { A: '--e', B: '---', C: '--e' });
    });

    it('local: C is notified for its own pressure', () => {
      run({ C: 'local' }, { C: '--e' });
    });

    it('local: B is never notified for pressure in C, whether C listens or not', () => {
      run({ B: 'local' }, { B: '---' });
      run({ B: 'local', C: 'default' }, { B: '---', C: '--e' });
    });

    it('a local listener that fired counts as signalled: a default listener above is skipped', () => {
      // vmpressure_event() returns true for any registration it signalled, local ones included.
      run({ A: 'default', C: 'local' }, { A: '---', C: '--e' });
      run({ A: 'default', B: 'local' }, { A: '--e', B: '---' });
    });
  });

  describe('levels', () => {
    it('a listener fires for its level and every higher level, not below', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const node = engine.node('/', 'test');
      const seen: Record<PressureLevel, PressureLevel[]> = { low: [], medium: [], critical: [] };
      for (const level of ['low', 'medium', 'critical'] as const) {
        node.listen(level).subscribe((e) => seen[level].push(e.level));
      }
      // One window per tick: 59% (low), 60% (medium), 95% (critical)
      for (const reclaimed of [205, 204, 25]) {
        node.account(512, reclaimed);
        scheduler.flush();
      }
      expect(seen).toEqual({
        low: ['low', 'medium', 'critical'],
        medium: ['medium', 'critical'],
        critical: ['critical'],
      });
    });
  });

  describe('.account', () => {
    it('waits for a full window of scanned pages, then reports the whole accumulation', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const node = engine.node('/app', 'test');
      const events: PressureEvent[] = [];
      node.listen('low').subscribe((e) => events.push(e));
      node.account(300, 100);
      node.account(211, 0);
      scheduler.flush();
      expect(events).toEqual([]);
      node.account(1, 1);
      node.account(100, 0); // pending work takes everything accounted before it runs
      scheduler.flush();
      expect(events).toEqual([
        // scale 713; 101 * 713 / 612 = 117; (713 - 117) * 100 / 713 = 83
        {
          level: 'medium',
          scope: '/app',
          source: 'test',
          time: 0,
          scanned: 612,
          reclaimed: 101,
          pressure: 83,
        },
      ]);
    });

    it('keeps calm when nothing was scanned, even if pages were reclaimed', () => {
      const scheduler = new ManualScheduler();
      const node = createEngine({ scheduler }).node('/');
      const events: PressureEvent[] = [];
      node.listen('low').subscribe((e) => events.push(e));
      for (let i = 0; i < 1000; i++) node.account(0, 10);
      scheduler.flush();
      expect(events).toEqual([]);
    });

    it('reports no pressure when slab reclaim adds more reclaimed than scanned', () => {
      const scheduler = new ManualScheduler();
      const node = createEngine({ scheduler }).node('/');
      const events: PressureEvent[] = [];
      node.listen('low').subscribe((e) => events.push(e));
      node.account(600, 700);
      scheduler.flush();
      expect(events.map((e) => [e.level, e.pressure])).toEqual([['low', 0]]);
    });

    it('coalesces 10,000 calls in one tick into one work per node', () => {
      const scheduler = new ManualScheduler();
      const schedule = jest.spyOn(scheduler, 'schedule');
      const engine = createEngine({ scheduler });
      const a = engine.node('/a', 'test');
      const b = engine.node('/b', 'test');
      const events = collectEvents(engine);
      for (let i = 0; i < 10_000; i++) {
        a.account(512, 0);
        b.account(512, 512);
      }
      expect(schedule).toHaveBeenCalledTimes(2);
      scheduler.flush();
      expect(events.map((e) => [e.scope, e.level, e.scanned, e.reclaimed])).toEqual([
        ['/a', 'critical', 5_120_000, 0],
        ['/b', 'low', 5_120_000, 5_120_000],
      ]);
      // The next tick starts a new window.
      a.account(512, 0);
      expect(schedule).toHaveBeenCalledTimes(3);
    });

    it('honours a custom window', () => {
      const scheduler = new ManualScheduler();
      const node = createEngine({ scheduler, window: 64 }).node('/');
      const events: PressureEvent[] = [];
      node.listen('low').subscribe((e) => events.push(e));
      node.account(64, 0);
      scheduler.flush();
      expect(events.map((e) => e.level)).toEqual(['critical']);
    });

    it('rejects a negative reclaimed count', () => {
      const node = createEngine().node('/');
      expect(() => node.account(512, -1)).toThrow(
        'Reclaimed page count must be a non-negative number, got -1',
      );
    });
  });

  describe('.account with tree = false (socket pressure)', () => {
    it('asserts socket pressure for one second after a window above low, without notifying listeners', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const node = engine.node('/app');
      const events = collectEvents(engine);
      node.account(512, 200, false); // 60%: medium
      expect(node.socketPressure()).toBe(true);
      scheduler.advanceBy(999);
      expect(node.socketPressure()).toBe(true);
      scheduler.advanceBy(1);
      expect(node.socketPressure()).toBe(false);
      node.account(512, 400, false); // low: no assertion
      expect(node.socketPressure()).toBe(false);
      expect(events).toEqual([]);
    });

    it('never asserts it on the root', () => {
      const root = createEngine({ scheduler: new ManualScheduler() }).node('/');
      root.account(512, 0, false);
      expect(root.socketPressure()).toBe(false);
    });
  });

  describe('.accountPriority', () => {
    it('reports a full failed window (critical) at priority 3 and below, nothing above', () => {
      const scheduler = new ManualScheduler();
      const node = createEngine({ scheduler }).node('/', 'test');
      const events: PressureEvent[] = [];
      node.listen('low').subscribe((e) => events.push(e));
      node.accountPriority(4);
      scheduler.flush();
      expect(events).toEqual([]);
      node.accountPriority(3);
      scheduler.flush();
      node.accountPriority(0);
      scheduler.flush();
      expect(events.map((e) => [e.level, e.scanned, e.reclaimed])).toEqual([
        ['critical', 512, 0],
        ['critical', 512, 0],
      ]);
    });
  });

  describe('.signal', () => {
    it('walks the tree with the given level, coalescing a turn to the highest', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const events = collectEvents(engine);
      const node = engine.node('/cg', 'cgroup-v1');
      node.signal('low');
      node.signal('critical');
      node.signal('medium');
      scheduler.flush();
      expect(events).toEqual([
        { level: 'critical', scope: '/cg', source: 'cgroup-v1', time: 0, signalledAt: 0 },
      ]);
    });

    it('rejects an unknown level like the kernel rejects it (EINVAL)', () => {
      const node = createEngine().node('/');
      expect(() => node.signal('high' as PressureLevel)).toThrow(MemshedError);
      expect(() => node.listen('high' as PressureLevel)).toThrow("Unknown pressure level 'high'");
      expect(() => node.listen('low', 'up' as PressureMode)).toThrow("Unknown pressure mode 'up'");
    });
  });

  describe('.listen', () => {
    it('registers on subscribe and closes on unsubscribe', () => {
      const scheduler = new ManualScheduler();
      const node = createEngine({ scheduler }).node('/');
      const events: PressureEvent[] = [];
      const subscription = node.listen('low').subscribe((e) => events.push(e));
      node.signal('low');
      scheduler.flush();
      subscription.unsubscribe();
      node.signal('low');
      scheduler.flush();
      expect(events).toHaveLength(1);
    });

    it('lets a listener unsubscribe itself during delivery without disturbing the others', () => {
      const scheduler = new ManualScheduler();
      const node = createEngine({ scheduler }).node('/');
      const seen: string[] = [];
      const first: Subscription = node.listen('low').subscribe(() => {
        seen.push('first');
        first.unsubscribe();
      });
      node.listen('low').subscribe(() => seen.push('second'));
      node.signal('low');
      scheduler.flush();
      node.signal('low');
      scheduler.flush();
      expect(seen).toEqual(['first', 'second', 'second']);
    });
  });

  describe('.dispose', () => {
    it('cancels pending work and completes listeners', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const node = engine.node('/');
      const listener: Observable<PressureEvent> = node.listen('low');
      let completed = false;
      let events = 0;
      listener.subscribe({ next: () => events++, complete: () => (completed = true) });
      node.account(512, 0);
      engine.dispose();
      scheduler.flush();
      expect({ events, completed, pending: scheduler.pending }).toEqual({
        events: 0,
        completed: true,
        pending: 0,
      });
    });
  });

  describe('.node', () => {
    it('normalises paths and links parents', () => {
      const engine = createEngine();
      const node = engine.node('//a///b/');
      expect(node.path).toBe('/a/b');
      expect(node.parent?.path).toBe('/a');
      expect(node.parent?.parent?.path).toBe('/');
      expect(node.parent?.parent?.parent).toBeUndefined();
      expect(engine.paths()).toEqual(['/', '/a', '/a/b']);
    });

    it('rejects relative paths and dot segments', () => {
      expect(() => normalizePath('a/b')).toThrow("Node path must be absolute ('/' or '/a/b'), got 'a/b'");
      expect(() => normalizePath('/a/../b')).toThrow("must not contain '.' or '..' segments");
    });
  });
});
