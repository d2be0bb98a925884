import { createEngine } from './engine';
import type { PressureLevel } from './levels';
import { PressureMonitor } from './monitor';
import { createTestScheduler, ManualScheduler } from './testing';

const states = { n: 'normal', l: 'low', m: 'medium', c: 'critical' } as const;

/** Schedules signals at virtual frames: `{ 1: 'medium', 3: 'critical' }`. */
function drive(
  scheduler: ReturnType<typeof createTestScheduler>,
  signals: Record<number, PressureLevel>,
  path = '/app',
) {
  const engine = createEngine({ scheduler });
  const node = engine.node(path, 'test');
  for (const [frame, level] of Object.entries(signals)) {
    scheduler.schedule(() => node.signal(level), Number(frame));
  }
  return engine;
}

describe(PressureMonitor, () => {
  describe('.level$', () => {
    it('rises at once and steps down one state per quiet period', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const monitor = new PressureMonitor(drive(scheduler, { 1: 'medium', 3: 'critical' }), { quiet: 5 });
        expectObservable(monitor.level$, '^ 30ms !').toBe('nm-c----m----l----n', states);
      });
    });

    it('holds a state while events at or above it keep coming', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const signals = { 1: 'medium', 3: 'medium', 5: 'medium', 7: 'medium', 9: 'medium' } as const;
        const monitor = new PressureMonitor(drive(scheduler, signals), { quiet: 5 });
        expectObservable(monitor.level$, '^ 30ms !').toBe('nm------------l----n', states);
      });
    });

    it('does not let lower events hold a higher state, but they hold their own level', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const signals = { 1: 'critical', 2: 'low', 3: 'low', 4: 'low', 5: 'low', 12: 'low' } as const;
        const monitor = new PressureMonitor(drive(scheduler, signals), { quiet: 5 });
        // critical 1 -> medium 6 -> low 11 (medium's last event was at 1) -> normal 17 (low event at 12)
        expectObservable(monitor.level$, '^ 30ms !').toBe('nc----m----l-----n', states);
      });
    });

    it('never emits the same state twice in a row', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const monitor = new PressureMonitor(drive(scheduler, { 1: 'low', 2: 'low', 3: 'low' }), { quiet: 3 });
        expectObservable(monitor.level$, '^ 20ms !').toBe('nl----n', states);
      });
    });

    it('replays the current state to a late subscriber', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const monitor = new PressureMonitor(drive(scheduler, { 1: 'critical' }), { quiet: 10 });
        expectObservable(monitor.level$, '----^ 5ms !').toBe('----c', states);
      });
    });

    it('follows only its scope when given one', () => {
      const scheduler = createTestScheduler();
      scheduler.run(({ expectObservable }) => {
        const engine = createEngine({ scheduler });
        scheduler.schedule(() => engine.node('/other').signal('critical'), 1);
        scheduler.schedule(() => engine.node('/app/worker').signal('low'), 2);
        const monitor = new PressureMonitor(engine, { quiet: 5, scope: '/app' });
        expectObservable(monitor.level$, '^ 20ms !').toBe('n-l----n', states);
      });
    });
  });

  describe('.events$', () => {
    it('carries every event of every node', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const monitor = new PressureMonitor(engine);
      const scopes: string[] = [];
      monitor.events$.subscribe((e) => scopes.push(`${e.scope}:${e.level}`));
      // A default listener on /a consumes the event for default listeners above, not for the monitor.
      monitor.listen('low', { scope: '/a' }).subscribe();
      engine.node('/a').signal('medium');
      engine.node('/b/c').account(512, 0);
      scheduler.flush();
      expect(scopes).toEqual(['/a:medium', '/b/c:critical']);
    });
  });

  describe('.dispose', () => {
    it('completes the streams and leaves no timer behind', () => {
      const scheduler = new ManualScheduler();
      const engine = createEngine({ scheduler });
      const monitor = new PressureMonitor(engine, { quiet: 1000 });
      let completed = 0;
      monitor.level$.subscribe({ complete: () => completed++ });
      monitor.events$.subscribe({ complete: () => completed++ });
      engine.node('/').signal('low');
      scheduler.flush();
      expect(scheduler.pending).toBe(1); // the step-down timer
      monitor.dispose();
      expect({ completed, pending: scheduler.pending }).toEqual({ completed: 2, pending: 0 });
    });
  });

  it('rejects a negative quiet period', () => {
    expect(() => new PressureMonitor(createEngine(), { quiet: -1 })).toThrow('Monitor quiet period');
  });
});
