import { ActionRunner, loadPlugins, type ActionRunRecord, type PressureState } from '@memshed/core';
import { ManualScheduler, firstIssuePath, validOptions } from '@memshed/core/testing';
import { BehaviorSubject } from 'rxjs';
import serviceShutdownModule, {
  ServiceRegistry,
  ServiceShutdownAction,
  serviceShutdownOptionsSchema,
  type ServiceShutdownOptionsInput,
} from './index';

const options = (input: ServiceShutdownOptionsInput = {}) =>
  validOptions(serviceShutdownOptionsSchema, input);

async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

/** Moves virtual time on by `ms`, then lets the hooks that time started settle. */
async function advance(scheduler: ManualScheduler, ms: number): Promise<void> {
  scheduler.advanceBy(ms);
  await flush();
}

function setup(input: ServiceShutdownOptionsInput = {}) {
  const scheduler = new ManualScheduler();
  const state$ = new BehaviorSubject<PressureState>('normal');
  const registry = new ServiceRegistry();
  const log: string[] = [];
  const service = (name: string, priority: 'background' | 'low' | 'normal' | 'high', essential = false) =>
    registry.register(name, {
      priority,
      essential,
      stop: () => void log.push(`stop ${name}`),
      start: () => void log.push(`start ${name}`),
    });
  service('indexer', 'background');
  service('thumbnails', 'background');
  service('mailer', 'low');
  service('reports', 'normal');
  service('api', 'high');
  service('metrics', 'background', true);
  const action = new ServiceShutdownAction(options(input), registry);
  const runner = new ActionRunner({ scheduler, state$ });
  const errors: string[] = [];
  runner.errors$.subscribe((error) => errors.push(error.message));
  const states = () => Object.fromEntries(registry.list().map((s) => [s.name, s.state]));
  const run = (level: PressureState, dryRun = false) => {
    state$.next(level);
    return runner.run(action, { level, dryRun });
  };
  return { scheduler, state$, registry, log, action, runner, errors, states, run };
}

describe(ServiceShutdownAction, () => {
  describe('.run', () => {
    it('at low stops background services only, as the kernel advises; essentials never', async () => {
      const { run, states, log } = setup();
      const record = await run('low');
      expect(record).toMatchObject({ status: 'ok', details: { stopped: ['indexer', 'thumbnails'] } });
      expect(record.summary).toBe('stopped indexer, thumbnails (below low)');
      expect(states()).toMatchObject({
        indexer: 'stopped',
        thumbnails: 'stopped',
        mailer: 'running',
        metrics: 'running',
      });
      expect(log).toEqual(['stop indexer', 'stop thumbnails']);
    });

    it('goes further with the level, lowest priority first, and never stops a service twice', async () => {
      const { run, log } = setup();
      await run('medium');
      expect(log).toEqual(['stop indexer', 'stop thumbnails', 'stop mailer']);
      const critical = await run('critical');
      expect(critical.details?.stopped).toEqual(['reports']);
      expect(log).toEqual(['stop indexer', 'stop thumbnails', 'stop mailer', 'stop reports']);
      expect((await run('critical')).summary).toBe('no running service below priority high');
    });

    it('stops everything below a configured priority at any level', async () => {
      const { run, log } = setup({ below: 'normal' });
      await run('low');
      expect(log).toEqual(['stop indexer', 'stop thumbnails', 'stop mailer']);
    });

    it('stops one priority after another: the next waits for the slower of the previous', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      const order: string[] = [];
      let releaseSlow!: () => void;
      registry.register('slow-bg', {
        priority: 'background',
        stop: () => new Promise<void>((resolve) => (releaseSlow = () => (order.push('slow-bg'), resolve()))),
      });
      registry.register('fast-bg', { priority: 'background', stop: () => void order.push('fast-bg') });
      registry.register('low', { priority: 'low', stop: () => void order.push('low') });
      const runner = new ActionRunner({ scheduler });
      const done = runner.run(new ServiceShutdownAction(options(), registry), { level: 'medium' });
      await flush();
      expect(order).toEqual(['fast-bg']);
      releaseSlow();
      const record = await done;
      expect(order).toEqual(['fast-bg', 'slow-bg', 'low']);
      expect(record.details?.stopped).toEqual(['slow-bg', 'fast-bg', 'low']);
    });

    it('in a dry run names what it would stop and stops nothing', async () => {
      const { run, log, states } = setup();
      const record = await run('medium', true);
      expect(record.summary).toBe('would stop indexer (background), thumbnails (background), mailer (low)');
      expect(record.details?.stopped).toEqual([]);
      expect(log).toEqual([]);
      expect(Object.values(states()).every((s) => s === 'running')).toBe(true);
    });

    it('reports a service that fails to stop and still stops the others', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      registry.register('broken', { priority: 'background', stop: () => Promise.reject(new Error('EBUSY')) });
      registry.register('fine', { priority: 'background', stop: () => undefined });
      const runner = new ActionRunner({ scheduler });
      const errors: string[] = [];
      runner.errors$.subscribe((e) => errors.push(e.message));
      const record = await runner.run(new ServiceShutdownAction(options(), registry), { level: 'low' });
      expect(record).toMatchObject({ status: 'ok', details: { stopped: ['fine'] } });
      expect(record.summary).toBe('stopped fine (below low); not stopped: broken');
      expect(errors).toEqual(["Service 'broken' failed to stop: EBUSY"]);
    });
  });

  describe('restart', () => {
    it('starts the stopped services again, highest priority first, after normal has held for `after`', async () => {
      const { run, scheduler, state$, log, states } = setup({ restart: { after: '30s' } });
      await run('medium');
      log.length = 0;
      state$.next('normal');
      await advance(scheduler, 29_999);
      expect(log).toEqual([]);
      await advance(scheduler, 1);
      expect(log).toEqual(['start mailer', 'start indexer', 'start thumbnails']);
      expect(Object.values(states()).every((s) => s === 'running')).toBe(true);
    });

    it('does not flap: pressure during the wait cancels it, and the wait starts over', async () => {
      const { run, scheduler, state$, log } = setup({ restart: { after: 10_000 } });
      await run('low');
      log.length = 0;
      state$.next('normal');
      scheduler.advanceBy(9000);
      state$.next('low'); // a blip: not calm yet
      scheduler.advanceBy(5000);
      state$.next('normal');
      await advance(scheduler, 9999);
      expect(log).toEqual([]);
      await advance(scheduler, 1);
      expect(log).toEqual(['start indexer', 'start thumbnails']);
    });

    it('leaves services without a start hook stopped, and stops watching once nothing is left', async () => {
      const scheduler = new ManualScheduler();
      const state$ = new BehaviorSubject<PressureState>('low');
      const registry = new ServiceRegistry();
      registry.register('one-shot', { priority: 'background', stop: () => undefined });
      const runner = new ActionRunner({ scheduler, state$ });
      await runner.run(new ServiceShutdownAction(options({ restart: { after: 100 } }), registry), {
        level: 'low',
      });
      state$.next('normal');
      await advance(scheduler, 100);
      expect(registry.get('one-shot')?.state).toBe('stopped');
      expect(state$.observed).toBe(false);
    });

    it('restarts a service that was still draining once it has stopped', async () => {
      const scheduler = new ManualScheduler();
      const state$ = new BehaviorSubject<PressureState>('low');
      const registry = new ServiceRegistry();
      let drained!: () => void;
      const start = jest.fn();
      registry.register('drainer', {
        priority: 'background',
        stop: () => new Promise<void>((resolve) => (drained = resolve)),
        start,
      });
      const runner = new ActionRunner({ scheduler, state$, timeout: 60_000 });
      const action = new ServiceShutdownAction(
        options({ timeout: '1s', restart: { after: '5s' } }),
        registry,
      );
      const running = runner.run(action, { level: 'low' });
      await flush();
      scheduler.advanceBy(1000);
      expect((await running).summary).toBe('stopped nothing (below low); not stopped: drainer');
      state$.next('normal');
      await advance(scheduler, 5000);
      expect(start).not.toHaveBeenCalled(); // still stopping
      drained();
      await flush();
      await advance(scheduler, 5000);
      expect(start).toHaveBeenCalledTimes(1);
      expect(registry.get('drainer')?.state).toBe('running');
    });

    it('reports a failed restart through the runner', async () => {
      const scheduler = new ManualScheduler();
      const state$ = new BehaviorSubject<PressureState>('low');
      const registry = new ServiceRegistry();
      registry.register('bad', {
        priority: 'background',
        stop: () => undefined,
        start: () => Promise.reject(new Error('port in use')),
      });
      const runner = new ActionRunner({ scheduler, state$ });
      const errors: string[] = [];
      runner.errors$.subscribe((e) => errors.push(e.message));
      const records: ActionRunRecord[] = [];
      runner.results$.subscribe((r) => records.push(r));
      await runner.run(new ServiceShutdownAction(options({ restart: { after: 10 } }), registry), {
        level: 'low',
      });
      state$.next('normal');
      await advance(scheduler, 10);
      expect(errors).toEqual([expect.stringContaining("Service 'bad' failed to start: port in use")]);
      expect(registry.get('bad')?.state).toBe('failed');
    });
  });
});

describe('service-shutdown options', () => {
  it('defaults the thresholds and timeouts', () => {
    expect(options()).toEqual({
      levels: { low: 'low', medium: 'normal', critical: 'high' },
      timeout: 10_000,
      forceTimeout: 2000,
    });
    expect(options({ restart: {} }).restart).toEqual({ after: 30_000, timeout: 10_000 });
  });

  it.each([
    [{ below: 'idle' }, 'below'],
    [{ timeout: 0 }, 'timeout'],
    [{ restart: { afte: '5s' } }, 'restart'],
    [{ levels: { high: 'low' } }, 'levels'],
  ])('rejects %p at %p', (input, path) => {
    expect(firstIssuePath(serviceShutdownOptionsSchema, input)).toBe(path);
  });
});

describe('serviceShutdownModule', () => {
  it('provides the factory over the container-wide registry and disposes actions with the container', async () => {
    const { container, actions } = loadPlugins([serviceShutdownModule]);
    expect(actions.map((a) => a.id)).toEqual(['service-shutdown']);
    const registry = container.get(ServiceRegistry);
    registry.register('bg', { priority: 'background', stop: () => undefined, start: () => undefined });
    const action = actions[0].create(options({ restart: { after: 10 } }));
    const state$ = new BehaviorSubject<PressureState>('low');
    await new ActionRunner({ scheduler: new ManualScheduler(), state$ }).run(action, { level: 'low' });
    expect(state$.observed).toBe(true);
    await container.unbindAll();
    expect(state$.observed).toBe(false);
  });
});
