import { MemshedError, type PressureEvent, type PressureLevel, type PressureState } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { BehaviorSubject, Subject } from 'rxjs';
import { Readiness } from './readiness';
import type { ReadinessOptions } from './readiness-options';

function readinessAt(state: PressureState = 'normal', options: ReadinessOptions = {}) {
  const scheduler = new ManualScheduler(1_000_000);
  const level$ = new BehaviorSubject<PressureState>(state);
  const readiness = new Readiness({ level$ }, { scheduler, ...options });
  const changes: boolean[] = [];
  readiness.ready$.subscribe((ready) => changes.push(ready));
  return { readiness, level$, scheduler, changes };
}

describe(Readiness, () => {
  describe('hold and recovery', () => {
    it('is not ready once critical held for `hold`, ready again after `recovery` below `readyBelow`', () => {
      const { readiness, level$, scheduler, changes } = readinessAt('normal', {
        hold: '2s',
        recovery: '10s',
      });
      level$.next('critical');
      scheduler.advanceBy(1999);
      expect(readiness.readyForMemory).toBe(true);
      scheduler.advanceBy(1);
      expect(readiness.readyForMemory).toBe(false);
      expect(readiness.since).toBe(1_002_000);

      // medium is inside the hysteresis band: no recovery starts.
      level$.next('medium');
      scheduler.advanceBy(60_000);
      expect(readiness.readyForMemory).toBe(false);

      level$.next('low');
      scheduler.advanceBy(9999);
      expect(readiness.readyForMemory).toBe(false);
      scheduler.advanceBy(1);
      expect(readiness.readyForMemory).toBe(true);
      expect(changes).toEqual([true, false, true]);
    });

    it('stays ready through bursts shorter than the hold', () => {
      const { readiness, level$, scheduler, changes } = readinessAt('normal', { hold: 2000 });
      for (let burst = 0; burst < 5; burst++) {
        level$.next('critical');
        scheduler.advanceBy(1500);
        level$.next('medium');
        scheduler.advanceBy(100);
      }
      expect(readiness.readyForMemory).toBe(true);
      expect(changes).toEqual([true]);
    });

    it('stays not ready while the state flaps into the hysteresis band, and recovers after a clean recovery period', () => {
      const { readiness, level$, scheduler, changes } = readinessAt('critical', {
        hold: '2s',
        recovery: '10s',
      });
      scheduler.advanceBy(2000);
      expect(readiness.readyForMemory).toBe(false);
      for (let flap = 0; flap < 6; flap++) {
        level$.next('low');
        scheduler.advanceBy(8000);
        level$.next('medium'); // back into the band before the recovery ends: it starts over
        scheduler.advanceBy(1000);
      }
      expect(readiness.readyForMemory).toBe(false);
      level$.next('normal');
      scheduler.advanceBy(10_000);
      expect(readiness.readyForMemory).toBe(true);
      expect(changes).toEqual([true, false, true]);
    });

    it('honours the level and readyBelow it is given', () => {
      const { readiness, level$, scheduler } = readinessAt('normal', {
        level: 'medium',
        readyBelow: 'low',
        hold: 0,
        recovery: '1s',
      });
      level$.next('medium');
      expect(readiness.readyForMemory).toBe(false);
      level$.next('low'); // not below low
      scheduler.advanceBy(5000);
      expect(readiness.readyForMemory).toBe(false);
      level$.next('normal');
      scheduler.advanceBy(1000);
      expect(readiness.readyForMemory).toBe(true);
    });

    it('is ready again when memshed stops (level$ completes), and after close()', () => {
      const { readiness, level$, scheduler } = readinessAt('critical', { hold: 0 });
      expect(readiness.readyForMemory).toBe(false);
      level$.complete();
      expect(readiness.readyForMemory).toBe(true);
      scheduler.advanceBy(60_000);
      expect(readiness.readyForMemory).toBe(true);

      const other = readinessAt('critical', { hold: 0 });
      other.readiness.close();
      other.level$.next('critical');
      expect(other.readiness.readyForMemory).toBe(true);
    });
  });

  describe('hold on events (a running memshed)', () => {
    /** A source with events: each `signal` is an event at the scheduler's time, and raises the state. */
    function withEvents(options: ReadinessOptions = {}) {
      const scheduler = new ManualScheduler(0);
      const level$ = new BehaviorSubject<PressureState>('normal');
      const events$ = new Subject<PressureEvent>();
      const readiness = new Readiness({ level$, events$ }, { scheduler, ...options });
      const signal = (level: PressureLevel) => {
        events$.next({ level, scope: '/', source: 'fake', time: scheduler.now() });
        if (level$.value === 'normal' || level$.value === 'low' || level === 'critical') level$.next(level);
      };
      return { readiness, level$, scheduler, signal };
    }

    it('stays ready after one burst, although the state holds critical for its quiet period', () => {
      const { readiness, scheduler, signal } = withEvents({ hold: '2s' });
      for (let i = 0; i < 50; i++) signal('critical'); // a burst of kernel events in one instant
      scheduler.advanceBy(5000); // the state is still critical (nothing steps it down here)
      expect(readiness.readyForMemory).toBe(true);
    });

    it('is not ready once critical events kept coming for the hold', () => {
      const { readiness, scheduler, signal } = withEvents({ hold: '2s' });
      signal('critical');
      scheduler.advanceBy(1000);
      signal('critical');
      scheduler.advanceBy(999);
      signal('critical');
      expect(readiness.readyForMemory).toBe(true);
      scheduler.advanceBy(1);
      signal('critical');
      expect(readiness.readyForMemory).toBe(false);
      expect(readiness.since).toBe(2000);
    });

    it('starts the hold over when the state fell below the level in between', () => {
      const { readiness, level$, scheduler, signal } = withEvents({ hold: '2s' });
      signal('critical');
      scheduler.advanceBy(1500);
      level$.next('medium'); // the episode ended
      signal('medium');
      scheduler.advanceBy(1000);
      signal('critical');
      expect(readiness.readyForMemory).toBe(true);
      scheduler.advanceBy(2000);
      signal('critical');
      expect(readiness.readyForMemory).toBe(false);
    });

    it('ignores events below the level for the hold', () => {
      const { readiness, scheduler, signal } = withEvents({ hold: '1s' });
      for (let i = 0; i < 5; i++) {
        signal('medium');
        scheduler.advanceBy(1000);
      }
      expect(readiness.readyForMemory).toBe(true);
    });
  });

  describe('.probe', () => {
    it('says why it is not ready under pressure, without asking check()', async () => {
      const check = jest.fn(() => true);
      const { readiness } = readinessAt('critical', { hold: 0, check });
      await expect(readiness.probe()).resolves.toEqual({
        ready: false,
        reason: 'memory-pressure',
        message: 'memory pressure at critical or above for 0ms; ready again after 10s below medium',
        state: 'critical',
      });
      expect(check).not.toHaveBeenCalled();
    });

    it.each([
      ['true', () => true, { ready: true }],
      ['false', () => false, { ready: false, reason: 'check-failed', message: 'check() said not ready' }],
      [
        '{ ready: false, reason }',
        async () => ({ ready: false, reason: 'database unreachable' }),
        { ready: false, reason: 'check-failed', message: 'database unreachable' },
      ],
      [
        'a throw',
        () => {
          throw new Error('boom');
        },
        { ready: false, reason: 'check-failed', message: 'check() threw: boom' },
      ],
      [
        'a rejection',
        () => Promise.reject(new Error('no pool')),
        { ready: false, reason: 'check-failed', message: 'check() rejected: no pool' },
      ],
    ])('composes the application check answering %s', async (_label, check, expected) => {
      const { readiness } = readinessAt('medium', { check: check as ReadinessOptions['check'] });
      await expect(readiness.probe()).resolves.toEqual({ state: 'medium', ...expected });
    });

    it('counts a check that does not answer within checkTimeout as not ready', async () => {
      const { readiness, scheduler } = readinessAt('normal', {
        check: () => new Promise<boolean>(() => undefined),
        checkTimeout: '1s',
      });
      const probe = readiness.probe();
      scheduler.advanceBy(1000);
      await expect(probe).resolves.toEqual({
        ready: false,
        reason: 'check-failed',
        message: 'check() did not answer within 1s',
        state: 'normal',
      });
    });
  });

  describe('options', () => {
    it('has the documented defaults and the probe routes as essential rules', () => {
      const { readiness } = readinessAt();
      expect(readiness.options).toEqual({
        level: 'critical',
        holdMs: 2000,
        readyBelow: 'medium',
        recoveryMs: 10_000,
        checkTimeoutMs: 1000,
        readinessPath: '/readyz',
        livenessPath: '/livez',
      });
      expect(readiness.routes).toEqual([
        { path: '/readyz', priority: 'essential' },
        { path: '/livez', priority: 'essential' },
      ]);
    });

    it.each([
      [{ level: 'severe' }, "readiness level 'severe' is not a pressure level"],
      [
        { level: 'medium', readyBelow: 'critical' },
        "readiness readyBelow 'critical' is above level 'medium'",
      ],
      [{ hold: '2 sec' }, "readiness hold: invalid duration '2 sec'"],
      [{ recovery: -1 }, "readiness recovery: invalid duration '-1'"],
      [{ readinessPath: 'readyz' }, "readiness readinessPath 'readyz' is not a path"],
      [{ livenessPath: '/readyz' }, "readinessPath and livenessPath are both '/readyz'"],
    ])('refuses %p', (options, message) => {
      const make = () =>
        new Readiness({ level$: new BehaviorSubject<PressureState>('normal') }, options as ReadinessOptions);
      expect(make).toThrow(MemshedError);
      expect(make).toThrow(message);
    });

    it('refuses a source without level$', () => {
      expect(() => new Readiness({} as never)).toThrow('Readiness needs something with a level$ to follow');
    });
  });
});
