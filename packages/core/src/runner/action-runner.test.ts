import type { PressureEvent } from '../engine';
import { MemshedError } from '../errors';
import type { Logger } from '../logger';
import type { ActionContext, ActionResult, SheddingAction } from '../plugin';
import { ManualScheduler } from '../testing';
import type { ActionRunRecord } from './action-run-record';
import { ActionRunner } from './action-runner';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An action whose runs the test settles by hand; it remembers every context it was given. */
class FakeAction implements SheddingAction {
  readonly contexts: ActionContext[] = [];
  readonly pending: Deferred<ActionResult>[] = [];
  constructor(readonly id = 'fake') {}
  run(context: ActionContext): Promise<ActionResult> {
    this.contexts.push(context);
    const next = deferred<ActionResult>();
    this.pending.push(next);
    return next.promise;
  }
  /** Settles the latest run. */
  resolve(result: ActionResult = {}): void {
    this.pending[this.pending.length - 1].resolve(result);
  }
  reject(error: unknown): void {
    this.pending[this.pending.length - 1].reject(error);
  }
  get lastSignal(): AbortSignal {
    return this.contexts[this.contexts.length - 1].signal;
  }
}

/** An action that resolves at once with a fixed result. */
function instant(id: string, result: ActionResult = {}, log?: string[]): SheddingAction {
  return {
    id,
    run: async () => {
      log?.push(id);
      return result;
    },
  };
}

/** Lets every settled promise's callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const write = (level: string) => (message: string) => void lines.push(`${level}: ${message}`);
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

const trigger: PressureEvent = { level: 'critical', scope: '/', source: 'fake', time: 0 };

function setup(options: ConstructorParameters<typeof ActionRunner>[0] = {}) {
  const scheduler = new ManualScheduler(1000);
  const logger = recordingLogger();
  const runner = new ActionRunner({ scheduler, logger, timeout: 500, ...options });
  const records: ActionRunRecord[] = [];
  const errors: MemshedError[] = [];
  runner.results$.subscribe((record) => records.push(record));
  runner.errors$.subscribe((error) => errors.push(error));
  return { scheduler, logger, runner, records, errors };
}

describe(ActionRunner, () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    // Give Node a turn to report rejections nobody handled: there must be none, ever.
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });

  describe('.run', () => {
    it('runs the action with the request and records what it freed, in scheduler time', async () => {
      const { scheduler, runner, records } = setup();
      const action = new FakeAction('cache-purge');
      const done = runner.run(
        { action, name: 'purge' },
        { level: 'critical', trigger, policy: 'trim', dryRun: false },
      );
      const context = action.contexts[0];
      expect(context).toMatchObject({ level: 'critical', trigger, policy: 'trim', dryRun: false });
      expect(context.signal.aborted).toBe(false);
      expect(context.scheduler).toBe(scheduler);
      scheduler.advanceBy(40);
      action.resolve({ freedBytes: 4096, estimated: true, summary: 'dropped 2', details: { entries: 2 } });
      const record = await done;
      expect(record).toMatchObject({
        run: 1,
        action: 'cache-purge',
        name: 'purge',
        policy: 'trim',
        level: 'critical',
        trigger,
        dryRun: false,
        status: 'ok',
        startedAt: 1000,
        finishedAt: 1040,
        outcome: 'continue',
        freedBytes: 4096,
        estimated: true,
        summary: 'dropped 2',
        details: { entries: 2 },
        errors: [],
      });
      expect(records).toEqual([record]);
    });

    it('asks for a dry run when the runner, the request or the step says so', async () => {
      const action = new FakeAction();
      const plain = setup();
      void plain.runner.run(action, { level: 'low' });
      expect(action.contexts[0].dryRun).toBe(false);
      action.resolve();
      await settle();
      void plain.runner.run(action, { level: 'low', dryRun: true });
      expect(action.contexts[1].dryRun).toBe(true);
      action.resolve();
      await settle();
      void plain.runner.run({ action, dryRun: true }, { level: 'low' });
      expect(action.contexts[2].dryRun).toBe(true);
      action.resolve();
      const global = setup({ dryRun: true });
      const record = global.runner.run(action, { level: 'low' });
      expect(action.contexts[3].dryRun).toBe(true);
      action.resolve();
      expect((await record).dryRun).toBe(true);
    });

    it('aborts a hanging action at its timeout, reports it and stops waiting', async () => {
      const { scheduler, runner, errors, logger } = setup();
      const action = new FakeAction('hang');
      let result: ActionRunRecord | undefined;
      void runner.run({ action, timeout: 200 }, { level: 'medium' }).then((r) => (result = r));
      scheduler.advanceBy(199);
      await settle();
      expect(result).toBeUndefined();
      expect(action.lastSignal.aborted).toBe(false);
      scheduler.advanceBy(1);
      await settle();
      expect(result).toMatchObject({
        status: 'timeout',
        outcome: 'continue',
        startedAt: 1000,
        finishedAt: 1200,
      });
      expect(action.lastSignal.aborted).toBe(true);
      expect(MemshedError.is(action.lastSignal.reason, 'timeout')).toBe(true);
      expect(errors).toHaveLength(1);
      expect(errors[0].kind).toBe('timeout');
      expect(errors[0].message).toContain("Action 'hang' did not finish within 200ms");
      expect(result?.errors).toEqual(errors);
      expect(logger.lines.some((line) => line.startsWith('error: ') && line.includes('200ms'))).toBe(true);
    });

    it('uses the runner timeout when the step has none', async () => {
      const { scheduler, runner } = setup({ timeout: 50 });
      const action = new FakeAction();
      const record = runner.run(action, { level: 'low' });
      scheduler.advanceBy(50);
      expect((await record).status).toBe('timeout');
    });

    it('never overlaps runs of one action, even past a timeout, until the run settles', async () => {
      const { scheduler, runner } = setup();
      const action = new FakeAction('slow');
      const first = runner.run({ action, timeout: 100 }, { level: 'low' });
      const second = await runner.run({ action, timeout: 100 }, { level: 'low' });
      expect(second).toMatchObject({ status: 'skipped', skipped: 'running', outcome: 'continue' });
      expect(runner.isRunning(action)).toBe(true);
      scheduler.advanceBy(100);
      expect((await first).status).toBe('timeout');
      expect((await runner.run(action, { level: 'low' })).skipped).toBe('running');
      expect(action.contexts).toHaveLength(1);
      action.resolve();
      await settle();
      expect(runner.isRunning(action)).toBe(false);
      const third = runner.run(action, { level: 'low' });
      expect(action.contexts).toHaveLength(2);
      action.resolve();
      expect((await third).status).toBe('ok');
    });

    it('lets different actions run at the same time', async () => {
      const { runner } = setup();
      const a = new FakeAction('a');
      const b = new FakeAction('b');
      const ra = runner.run(a, { level: 'low' });
      const rb = runner.run(b, { level: 'low' });
      expect(a.contexts).toHaveLength(1);
      expect(b.contexts).toHaveLength(1);
      a.resolve();
      b.resolve();
      expect([(await ra).status, (await rb).status]).toEqual(['ok', 'ok']);
    });

    it('skips an action during its cooldown, counted from when the run settled', async () => {
      const { scheduler, runner } = setup();
      const action = new FakeAction();
      const step = { action, cooldown: 1000 };
      const first = runner.run(step, { level: 'low' });
      scheduler.advanceBy(30);
      action.resolve();
      await first;
      expect(runner.coolingUntil(action)).toBe(2030);
      scheduler.advanceBy(999);
      expect(await runner.run(step, { level: 'low' })).toMatchObject({
        status: 'skipped',
        skipped: 'cooldown',
      });
      scheduler.advanceBy(1);
      const again = runner.run(step, { level: 'low' });
      action.resolve();
      expect((await again).status).toBe('ok');
      expect(action.contexts).toHaveLength(2);
    });

    it('starts the cooldown after a failure as well, so that a failing action is not retried in a loop', async () => {
      const { scheduler, runner } = setup();
      const action = new FakeAction();
      const first = runner.run({ action, cooldown: 100 }, { level: 'low' });
      action.reject(new Error('boom'));
      expect((await first).status).toBe('failed');
      expect((await runner.run({ action, cooldown: 100 }, { level: 'low' })).skipped).toBe('cooldown');
      scheduler.advanceBy(100);
      void runner.run({ action, cooldown: 100 }, { level: 'low' });
      expect(action.contexts).toHaveLength(2);
      action.resolve();
    });

    it('turns a synchronous throw and a rejection into failed records on errors$', async () => {
      const { runner, errors } = setup();
      const throwing: SheddingAction = {
        id: 'throws',
        run: () => {
          throw new TypeError('not a cache');
        },
      };
      const rejecting: SheddingAction = { id: 'rejects', run: () => Promise.reject('plain string') };
      const a = await runner.run(throwing, { level: 'critical' });
      const b = await runner.run(rejecting, { level: 'critical' });
      expect(a).toMatchObject({ status: 'failed', outcome: 'continue' });
      expect(b).toMatchObject({ status: 'failed', outcome: 'continue' });
      expect(errors.map((e) => [e.kind, e.message])).toEqual([
        ['action-failed', "Action 'throws' failed: not a cache"],
        ['action-failed', "Action 'rejects' failed: plain string"],
      ]);
      expect(errors[0].cause).toBeInstanceOf(TypeError);
      expect(a.errors).toEqual([errors[0]]);
    });

    it('reports an action that resolves with something that is not a result', async () => {
      const { runner } = setup();
      const action = { id: 'odd', run: () => Promise.resolve(42 as unknown as ActionResult) };
      const record = await runner.run(action, { level: 'low' });
      expect(record.status).toBe('failed');
      expect(record.errors[0].message).toContain('resolved with 42 instead of an ActionResult');
    });

    it('treats an outcome other than stop as continue, and drops malformed result fields', async () => {
      const { runner } = setup();
      const action = instant('odd', {
        outcome: 'halt' as 'stop',
        freedBytes: -1,
        estimated: 'yes' as unknown as boolean,
        summary: 'ok',
        details: 'not a record' as unknown as Record<string, unknown>,
      });
      const record = await runner.run(action, { level: 'low' });
      expect(record.outcome).toBe('continue');
      expect(record.freedBytes).toBeUndefined();
      expect(record.estimated).toBeUndefined();
      expect(record.details).toBeUndefined();
      expect(record.summary).toBe('ok');
    });

    it('keeps failures the action reports on the way in its record, without failing the run', async () => {
      const { runner, errors } = setup();
      const action: SheddingAction = {
        id: 'partial',
        run: async (context) => {
          context.report(new Error('flush failed'), "cache 'sessions' kept 3 dirty entries");
          return { details: { entries: 5 } };
        },
      };
      const record = await runner.run(action, { level: 'critical' });
      expect(record.status).toBe('ok');
      expect(record.errors.map((e) => e.message)).toEqual([
        "cache 'sessions' kept 3 dirty entries: flush failed",
      ]);
      expect(errors).toEqual(record.errors);
    });

    it('logs a rejection that arrives after the timeout instead of letting it go unhandled', async () => {
      const { scheduler, runner, logger, errors } = setup();
      const action = new FakeAction('late');
      const record = runner.run({ action, timeout: 10 }, { level: 'low' });
      scheduler.advanceBy(10);
      await record;
      action.reject(new Error('too late'));
      await settle();
      expect(errors).toHaveLength(1); // only the timeout
      expect(logger.lines).toContain(
        "info: action 'late' rejected after the runner stopped waiting: too late",
      );
      expect(runner.isRunning(action)).toBe(false);
    });

    it("cancels the run when the request's signal aborts", async () => {
      const { runner, errors } = setup();
      const action = new FakeAction();
      const controller = new AbortController();
      const record = runner.run(action, { level: 'low', signal: controller.signal });
      controller.abort(new Error('policy superseded'));
      expect(await record).toMatchObject({ status: 'cancelled', errors: [] });
      expect(action.lastSignal.aborted).toBe(true);
      expect((action.lastSignal.reason as Error).message).toContain('policy superseded');
      expect(errors).toEqual([]);
      expect(
        (await runner.run(new FakeAction('other'), { level: 'low', signal: controller.signal })).skipped,
      ).toBe('cancelled');
      action.resolve();
    });

    it('rejects a malformed step synchronously', () => {
      const { runner } = setup();
      expect(() => runner.run({ id: 'x' } as unknown as SheddingAction, { level: 'low' })).toThrow(
        /Step 0 is not an action/,
      );
      expect(() => runner.run({ action: instant('a'), timeout: 0 }, { level: 'low' })).toThrow(
        /timeout must be a number of ms > 0/,
      );
      expect(() => runner.run({ action: instant('a'), cooldown: -1 }, { level: 'low' })).toThrow(
        /cooldown must be a finite number/,
      );
    });

    it('hands the monitor state stream and a scheduler to actions', async () => {
      const { runner } = setup();
      let seen: ActionContext | undefined;
      await runner.run(
        {
          id: 'peek',
          run: async (context) => {
            seen = context;
            return {};
          },
        },
        { level: 'low' },
      );
      expect(seen?.state$).toBeDefined();
      expect(typeof seen?.scheduler.now).toBe('function');
    });
  });

  describe('.runChain', () => {
    it('runs steps in order and ends at the first outcome stop', async () => {
      const { runner, records } = setup();
      const order: string[] = [];
      const chain = await runner.runChain(
        [
          instant('a', {}, order),
          instant('b', { outcome: 'stop', freedBytes: 10 }, order),
          instant('c', {}, order),
        ],
        { level: 'critical', policy: 'p' },
      );
      expect(order).toEqual(['a', 'b']);
      expect(chain).toMatchObject({
        chain: 1,
        policy: 'p',
        level: 'critical',
        ended: 'stopped',
        stoppedBy: 'b',
      });
      expect(chain.steps.map((s) => [s.action, s.status, s.outcome, s.chain])).toEqual([
        ['a', 'ok', 'continue', { id: 1, index: 0, length: 3 }],
        ['b', 'ok', 'stop', { id: 1, index: 1, length: 3 }],
      ]);
      expect(records).toEqual(chain.steps);
    });

    it('goes on past a failing, a hanging and a skipped step: the others still run', async () => {
      const { scheduler, runner, errors } = setup();
      const order: string[] = [];
      const hanging = new FakeAction('hangs');
      const cooling = instant('cooling', {}, order);
      await runner.run({ action: cooling, cooldown: 10_000 }, { level: 'low' });
      order.length = 0;
      const chain = runner.runChain(
        [
          { id: 'throws', run: () => Promise.reject(new Error('boom')) },
          { action: hanging, timeout: 300 },
          { action: cooling, cooldown: 10_000 },
          instant('last', { freedBytes: 1 }, order),
        ],
        { level: 'critical' },
      );
      await settle();
      scheduler.advanceBy(300);
      const result = await chain;
      expect(result.ended).toBe('completed');
      expect(result.steps.map((s) => [s.action, s.status, s.skipped])).toEqual([
        ['throws', 'failed', undefined],
        ['hangs', 'timeout', undefined],
        ['cooling', 'skipped', 'cooldown'],
        ['last', 'ok', undefined],
      ]);
      expect(order).toEqual(['last']);
      expect(errors.map((e) => e.kind)).toEqual(['action-failed', 'timeout']);
      hanging.resolve();
    });

    it('ends the chain when the request is cancelled, without starting later steps', async () => {
      const { runner } = setup();
      const order: string[] = [];
      const first = new FakeAction('first');
      const controller = new AbortController();
      const chain = runner.runChain([first, instant('second', {}, order)], {
        level: 'critical',
        signal: controller.signal,
      });
      controller.abort();
      const result = await chain;
      expect(result.ended).toBe('cancelled');
      expect(result.steps.map((s) => s.status)).toEqual(['cancelled']);
      expect(order).toEqual([]);
      first.resolve();
    });

    it('honours an outcome stop in a dry run, as the action decided it', async () => {
      const { runner } = setup();
      const chain = await runner.runChain(
        [instant('a', { outcome: 'stop', summary: 'would free 10 MB' }), instant('b')],
        { level: 'critical', dryRun: true },
      );
      expect(chain).toMatchObject({ dryRun: true, ended: 'stopped' });
      expect(chain.steps[0]).toMatchObject({ dryRun: true, summary: 'would free 10 MB' });
    });
  });

  describe('.dispose', () => {
    it('cancels running steps, skips later ones and completes the streams', async () => {
      const { runner } = setup();
      const action = new FakeAction();
      let completed = false;
      runner.results$.subscribe({ complete: () => (completed = true) });
      const seen: ActionRunRecord[] = [];
      runner.results$.subscribe((record) => seen.push(record));
      const chain = runner.runChain([action, instant('never')], { level: 'critical' });
      runner.dispose();
      runner.dispose();
      const result = await chain;
      expect(result.ended).toBe('cancelled');
      expect(result.steps.map((s) => s.status)).toEqual(['cancelled']);
      expect(action.lastSignal.aborted).toBe(true);
      expect(completed).toBe(true);
      expect(seen.map((s) => s.status)).toEqual(['cancelled']);
      expect((await runner.run(instant('after'), { level: 'low' })).skipped).toBe('disposed');
      action.resolve();
    });
  });

  describe('with the loop scheduler and jest fake timers', () => {
    beforeEach(() => jest.useFakeTimers({ now: 5000 }));
    afterEach(() => jest.useRealTimers());

    it('times out on wall-clock timers and then lets the action run again once it settles', async () => {
      const runner = new ActionRunner({ timeout: 1000 });
      const action = new FakeAction();
      let record: ActionRunRecord | undefined;
      void runner.run(action, { level: 'critical' }).then((r) => (record = r));
      await jest.advanceTimersByTimeAsync(999);
      expect(record).toBeUndefined();
      await jest.advanceTimersByTimeAsync(1);
      expect(record).toMatchObject({ status: 'timeout', startedAt: 5000, finishedAt: 6000 });
      action.resolve();
      await jest.advanceTimersByTimeAsync(0);
      const again = runner.run(action, { level: 'critical' });
      action.resolve({ freedBytes: 1 });
      expect((await again).status).toBe('ok');
      runner.dispose();
    });

    it('swallows a throwing onError handler and a throwing logger', async () => {
      const angry = () => {
        throw new Error('handler bug');
      };
      const runner = new ActionRunner({
        onError: angry,
        logger: { debug: angry, info: angry, warn: angry, error: angry },
      });
      const record = await runner.run(
        { id: 'x', run: () => Promise.reject(new Error('boom')) },
        { level: 'low' },
      );
      expect(record.status).toBe('failed');
      runner.dispose();
    });
  });
});
