import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { MemshedError, type ActionResult, type PressureState, type SheddingAction } from '@memshed/core';
import { BehaviorSubject } from 'rxjs';
import { LoadShedder } from './load-shedder';
import { DEFAULT_RELEASE_MIN_BYTES, type LoadSheddingOptions } from './load-shedder-options';
import { QUIET_MS, pressureHarness, type PressureHarness } from './test-support/harness';

function req(url: string, method = 'GET', extra: Record<string, unknown> = {}): IncomingMessage {
  return { url, method, headers: {}, ...extra } as unknown as IncomingMessage;
}

function shedderAt(state: PressureState, options: LoadSheddingOptions = {}) {
  const level$ = new BehaviorSubject<PressureState>(state);
  return { shedder: new LoadShedder({ level$ }, options), level$ };
}

describe(LoadShedder, () => {
  let harness: PressureHarness;

  beforeEach(async () => {
    harness = await pressureHarness();
  });

  afterEach(async () => {
    await harness.stop();
  });

  describe('.decide', () => {
    it.each([
      ['normal', { background: false, low: false, normal: false, high: false, essential: false }],
      ['low', { background: true, low: false, normal: false, high: false, essential: false }],
      ['medium', { background: true, low: true, normal: false, high: false, essential: false }],
      ['critical', { background: true, low: true, normal: true, high: true, essential: false }],
    ] as const)('at %s sheds by the default levels', (state, expected) => {
      const { shedder } = shedderAt(state);
      const actual = Object.fromEntries(
        (['background', 'low', 'normal', 'high', 'essential'] as const).map((p) => [
          p,
          shedder.decide(p).shed,
        ]),
      );
      expect(actual).toEqual(expected);
    });

    it('caps every priority at `level`, and `levels` overrides one priority', () => {
      const { shedder } = shedderAt('medium', { level: 'medium', levels: { high: 'never' } });
      expect(shedder.levels).toEqual({ background: 'low', low: 'medium', normal: 'medium', high: 'never' });
      expect(shedder.decide('normal')).toEqual({
        shed: true,
        state: 'medium',
        priority: 'normal',
        threshold: 'medium',
        retryAfter: 10,
      });
      expect(shedder.decide('high')).toMatchObject({ shed: false, threshold: undefined });
    });

    it('follows the monitor: rises with events and steps down to normal after the quiet periods', () => {
      const shedder = new LoadShedder(harness.memshed);
      expect(shedder.decide('normal').shed).toBe(false);
      harness.signal('critical');
      expect(shedder.state).toBe('critical');
      expect(shedder.decide('normal').shed).toBe(true);
      harness.recover();
      expect(shedder.state).toBe('normal');
      expect(shedder.decide('normal').shed).toBe(false);
    });
  });

  describe('.priorityOf', () => {
    it('takes the route override, then classify, then the first matching rule, then the default', () => {
      const { shedder } = shedderAt('normal', {
        routes: [
          { path: '/healthz', priority: 'essential' },
          { path: '/reports/*', method: 'POST', priority: 'background' },
          { path: '/reports/*', priority: 'low' },
        ],
        classify: (request) => (request.headers['x-priority'] === 'high' ? 'high' : undefined),
        defaultPriority: 'normal',
      });
      expect(shedder.priorityOf(req('/healthz?probe=1'))).toBe('essential');
      expect(shedder.priorityOf(req('/reports/7', 'POST'))).toBe('background');
      expect(shedder.priorityOf(req('/reports', 'GET'))).toBe('low');
      expect(shedder.priorityOf(req('/reportsx'))).toBe('normal');
      expect(shedder.priorityOf(req('/reports/7', 'POST', { headers: { 'x-priority': 'high' } }))).toBe(
        'high',
      );
      expect(shedder.priorityOf(req('/healthz'), 'low')).toBe('low');
    });

    it("matches rules on Express's originalUrl (the full path inside a mounted router)", () => {
      const { shedder } = shedderAt('normal', { routes: [{ path: '/api/admin/*', priority: 'essential' }] });
      expect(shedder.priorityOf(req('/users', 'GET', { originalUrl: '/api/admin/users' }))).toBe('essential');
    });

    it('turns a throwing or wrong classify() into an invalid-argument error', () => {
      const throwing = shedderAt('normal', {
        classify: () => {
          throw new Error('boom');
        },
      }).shedder;
      expect(() => throwing.priorityOf(req('/'))).toThrow(/classify\(\) option threw: boom/);
      const wrong = shedderAt('normal', { classify: () => 'urgent' as never }).shedder;
      expect(() => wrong.priorityOf(req('/'))).toThrow(MemshedError);
    });
  });

  describe('.admit', () => {
    it('counts accepted and shed requests and tracks accepted ones in flight until their response closes', () => {
      const { shedder, level$ } = shedderAt('normal', { routes: [{ path: '/bg', priority: 'background' }] });
      const first = new EventEmitter();
      expect(shedder.admit(req('/'), first).shed).toBe(false);
      level$.next('low');
      expect(shedder.admit(req('/bg'), new EventEmitter()).shed).toBe(true);
      expect(shedder.admit(req('/'), new EventEmitter()).shed).toBe(false);
      expect(shedder.counters).toEqual({
        accepted: 2,
        shed: 1,
        inFlight: 2,
        shedByPriority: { background: 1, low: 0, normal: 0, high: 0 },
      });
      first.emit('close');
      expect(shedder.counters.inFlight).toBe(1);
    });

    it('decides a request again with a route guard priority, moving it to the shed counter', () => {
      const { shedder } = shedderAt('medium');
      const request = req('/reports');
      const response = new EventEmitter();
      expect(shedder.admit(request, response).shed).toBe(false);
      expect(shedder.admit(request, response, 'low').shed).toBe(true);
      // Once shed, it stays shed: a later guard cannot serve it.
      expect(shedder.admit(request, response, 'essential').shed).toBe(true);
      expect(shedder.counters).toMatchObject({ accepted: 0, shed: 1, inFlight: 1 });
      response.emit('close');
      expect(shedder.counters.inFlight).toBe(0);
    });
  });

  describe('.status', () => {
    it('shows the level, since, the last events coalesced into runs, and the counters', () => {
      const shedder = new LoadShedder(harness.memshed, { statusEvents: 2 });
      const start = harness.scheduler.now();
      harness.signal('low');
      harness.scheduler.advanceBy(100);
      harness.signal('critical', '/app');
      harness.scheduler.advanceBy(100);
      harness.signal('critical', '/app');
      harness.scheduler.advanceBy(100);
      harness.signal('medium', '/app');
      const status = shedder.status();
      expect(status).toEqual({
        level: 'critical',
        since: start + 100,
        events: [
          {
            level: 'critical',
            scope: '/app',
            source: 'fake',
            first: start + 100,
            time: start + 200,
            count: 2,
          },
          { level: 'medium', scope: '/app', source: 'fake', first: start + 300, time: start + 300, count: 1 },
        ],
        counters: {
          accepted: 0,
          shed: 0,
          inFlight: 0,
          shedByPriority: { background: 0, low: 0, normal: 0, high: 0 },
        },
      });
      expect(Object.keys(status)).toEqual(['level', 'since', 'events', 'counters']);
    });
  });

  describe('.close', () => {
    it('stops shedding when memshed stops (level$ completes) or the shedder is closed', async () => {
      const shedder = new LoadShedder(harness.memshed);
      harness.signal('critical');
      expect(shedder.decide('normal').shed).toBe(true);
      await harness.memshed.stop();
      expect(shedder.state).toBe('normal');

      const other = shedderAt('critical').shedder;
      other.close();
      expect(other.decide('high').shed).toBe(false);
    });
  });

  describe('release', () => {
    const MiB = 1024 * 1024;

    /** An action that reports `result` (what a purge or a collection would have freed). */
    function freeing(result: ActionResult, id = 'gc'): SheddingAction {
      return { id, run: () => Promise.resolve(result) };
    }

    /** Runs `action` through memshed's runner (its record goes to actions$), at the current state. */
    async function run(action: SheddingAction, dryRun = false) {
      return harness.memshed.runner.run(action, { level: 'critical', dryRun });
    }

    it('stops shedding once an action reports memory released, while level$ still holds critical', async () => {
      const shedder = new LoadShedder(harness.memshed, { exposeStatusRoute: true });
      harness.signal('critical');
      expect(shedder.decide('normal').shed).toBe(true);
      harness.scheduler.advanceBy(40);
      await run(freeing({ freedBytes: 64 * MiB, estimated: false }));
      expect(shedder.state).toBe('critical');
      expect(shedder.sheddingState).toBe('normal');
      expect(shedder.decide('normal').shed).toBe(false);
      expect(shedder.decide('background').shed).toBe(false);
      expect(shedder.status()).toMatchObject({
        level: 'critical',
        release: { at: harness.scheduler.now(), action: 'gc', freedBytes: 64 * MiB, shedding: 'normal' },
      });
      // level$ steps down through medium and low (one quiet period each): still nothing is shed.
      harness.scheduler.advanceBy(QUIET_MS);
      expect(shedder.state).toBe('medium');
      expect(shedder.decide('low').shed).toBe(false);
      harness.recover();
      expect(shedder.state).toBe('normal');
      expect(shedder.status().release).toBeUndefined();
    });

    it('sheds again at the level of the pressure events that come after the release', async () => {
      const shedder = new LoadShedder(harness.memshed);
      harness.signal('critical');
      harness.scheduler.advanceBy(50);
      await run(freeing({ freedBytes: 8 * MiB }));
      expect(shedder.decide('normal').shed).toBe(false);
      harness.scheduler.advanceBy(500);
      harness.signal('medium');
      expect(shedder.sheddingState).toBe('medium');
      expect([shedder.decide('low').shed, shedder.decide('normal').shed]).toEqual([true, false]);
      harness.scheduler.advanceBy(500);
      harness.signal('critical');
      expect(shedder.decide('normal').shed).toBe(true);
      // The next release stops it again.
      await run(freeing({ freedBytes: 8 * MiB }));
      expect(shedder.decide('low').shed).toBe(false);
    });

    it('ignores events stamped before the release (a burst delivered late describes the memory it freed)', async () => {
      const shedder = new LoadShedder(harness.memshed);
      harness.signal('critical');
      const before = harness.scheduler.now();
      harness.scheduler.advanceBy(30);
      await run(freeing({ freedBytes: 8 * MiB }));
      harness.memshed.engine.node('/').signal('critical');
      const late = { level: 'critical', scope: '/', source: 'fake', time: before } as const;
      // The engine stamps events with the scheduler's time: deliver one stamped earlier by hand.
      (shedder as unknown as { raiseCeiling(event: typeof late): void }).raiseCeiling(late);
      expect(shedder.sheddingState).toBe('normal');
      // ...while the engine's own event, stamped now, counts.
      harness.scheduler.flush();
      expect(shedder.sheddingState).toBe('critical');
    });

    /** A collection that holds the event loop for `ms` and then reports `freedBytes` returned. */
    function blocking(ms: number, freedBytes: number): SheddingAction {
      return {
        id: 'gc',
        run: () => {
          harness.scheduler.busy(ms);
          return Promise.resolve({ freedBytes, estimated: false });
        },
      };
    }

    it('ignores a level signalled before the release ended and delivered after it, also when it raises level$', async () => {
      const shedder = new LoadShedder(harness.memshed);
      harness.signal('medium');
      harness.scheduler.advanceBy(100);
      // The source sees critical just before a collection holds the event loop for 80 ms: the
      // engine delivers the signal after it, stamped 80 ms later, and level$ rises then.
      harness.memshed.engine.node('/').signal('critical');
      await run(blocking(80, 64 * MiB));
      harness.scheduler.flush();
      expect(shedder.state).toBe('critical');
      expect(shedder.decide('normal').shed).toBe(false);
      expect(shedder.sheddingState).toBe('normal');
      // A level seen after the release counts.
      harness.scheduler.advanceBy(10);
      harness.signal('critical');
      expect(shedder.decide('normal').shed).toBe(true);
    });

    it('still sheds on a level seen before the release when nothing was released', async () => {
      const shedder = new LoadShedder(harness.memshed);
      harness.signal('medium');
      harness.memshed.engine.node('/').signal('critical');
      await run(blocking(80, 0));
      harness.scheduler.flush();
      expect(shedder.decide('normal').shed).toBe(true);
    });

    it.each([
      ['an estimate (cache-purge entry sizes)', { freedBytes: 64 * MiB, estimated: true }, false],
      ['less than minBytes', { freedBytes: DEFAULT_RELEASE_MIN_BYTES - 1 }, false],
      ['a dry run', { freedBytes: 64 * MiB }, true],
    ] as const)('does not count %s', async (_label, result, dryRun) => {
      const shedder = new LoadShedder(harness.memshed);
      harness.signal('critical');
      await run(freeing(result), dryRun);
      expect(shedder.decide('normal').shed).toBe(true);
      expect(shedder.status().release).toBeUndefined();
    });

    it('does not count a failed run', async () => {
      const shedder = new LoadShedder(harness.memshed);
      harness.signal('critical');
      await run({ id: 'gc', run: () => Promise.reject(new Error('no gc')) });
      expect(shedder.decide('normal').shed).toBe(true);
    });

    it('counts estimates with `estimated: true`, and takes its own `minBytes`', async () => {
      const shedder = new LoadShedder(harness.memshed, { release: { estimated: true, minBytes: 10 * MiB } });
      harness.signal('critical');
      await run(freeing({ freedBytes: 9 * MiB, estimated: true }, 'cache-purge'));
      expect(shedder.decide('normal').shed).toBe(true);
      harness.scheduler.advanceBy(1);
      await run(freeing({ freedBytes: 12 * MiB, estimated: true }, 'cache-purge'));
      expect(shedder.decide('normal').shed).toBe(false);
    });

    it('a release while nothing is shed does not cap the next rise', async () => {
      const shedder = new LoadShedder(harness.memshed);
      await run(freeing({ freedBytes: 64 * MiB }));
      harness.scheduler.advanceBy(100);
      harness.signal('critical');
      expect(shedder.decide('normal').shed).toBe(true);
    });

    it('follows level$ only with `release: false`, or when the source has no actions$', async () => {
      const off = new LoadShedder(harness.memshed, { release: false });
      const { level$, events$ } = harness.memshed;
      const levelOnly = new LoadShedder({ level$, events$ });
      harness.signal('critical');
      await run(freeing({ freedBytes: 64 * MiB }));
      expect(off.decide('normal').shed).toBe(true);
      expect(levelOnly.decide('normal').shed).toBe(true);
      harness.recover();
      expect(off.decide('normal').shed).toBe(false);
    });
  });

  describe('constructor', () => {
    it.each([
      [{ retryAfter: 0 }, /retryAfter must be a whole number of seconds > 0/],
      [{ retryAfter: 1.5 }, /retryAfter/],
      [{ level: 'severe' as never }, /is not a level/],
      [{ levels: { urgent: 'low' } as never }, /levels.urgent: unknown priority/],
      [{ routes: [{ path: 'healthz', priority: 'essential' as const }] }, /routes\[0\].path must be a path/],
      [
        { routes: [{ path: '/x', priority: 'top' as never }] },
        /routes\[0\].priority: unknown route priority 'top'/,
      ],
      [{ exposeStatusRoute: 'status' }, /exposeStatusRoute: 'status' is not a path/],
      [{ release: { minBytes: -1 } }, /release.minBytes must be a number of bytes >= 0/],
    ])('refuses %j', (options, message) => {
      expect(() => new LoadShedder(harness.memshed, options as LoadSheddingOptions)).toThrow(message);
    });

    it('refuses something that has no level$', () => {
      expect(() => new LoadShedder({} as never)).toThrow(/needs something with a level\$/);
    });
  });
});
