import { MemshedError } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { Container } from '@memshed/core/inversify';
import { InFlight } from './in-flight';
import { ServiceRegistry, servicesOf, type ServiceStopReport } from './service-registry';

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

function job() {
  let done!: () => void;
  const promise = new Promise<void>((resolve) => (done = resolve));
  return { promise, done };
}

const options = (scheduler: ManualScheduler) => ({ timeout: 1000, forceTimeout: 100, scheduler });

describe(ServiceRegistry, () => {
  describe('.register', () => {
    it('lists services in stopping order and rejects bad registrations', () => {
      const registry = new ServiceRegistry();
      registry.register('api', { stop: () => undefined, priority: 'high' });
      registry.register('indexer', { stop: () => undefined, priority: 'background', start: () => undefined });
      registry.register('mailer', { stop: () => undefined });
      expect(registry.list().map((s) => [s.name, s.priority, s.state, s.restartable])).toEqual([
        ['indexer', 'background', 'running', true],
        ['mailer', 'normal', 'running', false],
        ['api', 'high', 'running', false],
      ]);
      expect(() => registry.register('api', { stop: () => undefined })).toThrow(/already registered/);
      expect(() => registry.register('x', {} as never)).toThrow(/has no stop\(\) hook/);
      expect(() => registry.register('y', { stop: () => undefined, priority: 'idle' as 'low' })).toThrow(
        /unknown priority 'idle'/,
      );
    });
  });

  describe('.select', () => {
    it('selects running, non-essential services strictly below the priority', () => {
      const registry = new ServiceRegistry();
      registry.register('bg', { stop: () => undefined, priority: 'background' });
      registry.register('bg-essential', { stop: () => undefined, priority: 'background', essential: true });
      registry.register('low', { stop: () => undefined, priority: 'low' });
      registry.register('normal', { stop: () => undefined });
      expect(registry.select('low').map((s) => s.name)).toEqual(['bg']);
      expect(registry.select('high').map((s) => s.name)).toEqual(['bg', 'low', 'normal']);
      expect(registry.select('background')).toEqual([]);
    });
  });

  describe('.stop', () => {
    it('waits for a graceful stop to drain in-flight work before the service counts as stopped', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      const inFlight = new InFlight();
      const finished: string[] = [];
      let accepting = true;
      const work = [job(), job(), job()];
      work.forEach((j, i) => inFlight.track(j.promise.then(() => void finished.push(`job${i}`))));
      registry.register('worker', {
        priority: 'background',
        stop: async (signal) => {
          accepting = false;
          await inFlight.drain(signal);
        },
      });
      let report: ServiceStopReport | undefined;
      void registry.stop('worker', options(scheduler)).then((r) => (report = r));
      await flush();
      expect(accepting).toBe(false);
      expect(registry.get('worker')?.state).toBe('stopping');
      scheduler.advanceBy(300);
      work[1].done();
      await flush();
      expect(registry.get('worker')?.state).toBe('stopping');
      work[0].done();
      work[2].done();
      await flush();
      expect(report).toMatchObject({ name: 'worker', result: 'stopped', state: 'stopped', took: 300 });
      expect(finished.sort()).toEqual(['job0', 'job1', 'job2']);
    });

    it('never stops a service twice, even when asked again while it is stopping', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      const gate = job();
      const stop = jest.fn(() => gate.promise);
      registry.register('svc', { stop });
      const first = registry.stop('svc', options(scheduler));
      const second = await registry.stop('svc', options(scheduler));
      expect(second).toMatchObject({ result: 'skipped', state: 'stopping' });
      gate.done();
      expect((await first).result).toBe('stopped');
      expect((await registry.stop('svc', options(scheduler))).result).toBe('skipped');
      expect(stop).toHaveBeenCalledTimes(1);
    });

    it('forces a service whose graceful stop times out, aborting the graceful signal', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      let gracefulSignal: AbortSignal | undefined;
      const force = jest.fn();
      registry.register('svc', {
        stop: (signal) => {
          gracefulSignal = signal;
          return new Promise<void>(() => undefined);
        },
        force,
      });
      const stopping = registry.stop('svc', options(scheduler));
      await flush();
      scheduler.advanceBy(1000);
      const report = await stopping;
      expect(report).toMatchObject({ result: 'forced', state: 'stopped', took: 1000 });
      expect(report.error?.kind).toBe('timeout');
      expect(report.error?.message).toMatch(/did not stop within 1s/);
      expect(gracefulSignal?.aborted).toBe(true);
      expect(force).toHaveBeenCalledTimes(1);
    });

    it('forces a service whose graceful stop fails', async () => {
      const registry = new ServiceRegistry();
      const force = jest.fn();
      registry.register('svc', { stop: () => Promise.reject(new Error('socket busy')), force });
      const report = await registry.stop('svc', options(new ManualScheduler()));
      expect(report).toMatchObject({ result: 'forced', state: 'stopped' });
      expect(report.error?.message).toBe("Service 'svc' failed to stop: socket busy");
    });

    it('marks a service failed when the stop fails without a force hook, or the force fails too', async () => {
      const registry = new ServiceRegistry();
      registry.register('plain', {
        stop: () => {
          throw new Error('nope');
        },
      });
      registry.register('stubborn', {
        stop: () => Promise.reject(new Error('nope')),
        force: () => Promise.reject(new Error('still nope')),
      });
      const plain = await registry.stop('plain', options(new ManualScheduler()));
      const stubborn = await registry.stop('stubborn', options(new ManualScheduler()));
      expect(plain).toMatchObject({ result: 'failed', state: 'failed' });
      expect(stubborn).toMatchObject({ result: 'failed', state: 'failed' });
      expect(stubborn.error?.message).toBe("Service 'stubborn' failed to stop, even when forced: still nope");
      expect((await registry.stop('plain', options(new ManualScheduler()))).result).toBe('skipped');
      registry.markRunning('plain');
      expect(registry.get('plain')?.state).toBe('running');
    });

    it('reports a timeout without a force hook and settles the state when the stop finishes', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      const slow = job();
      registry.register('slow', { stop: () => slow.promise });
      const stopping = registry.stop('slow', options(scheduler));
      await flush();
      scheduler.advanceBy(1000);
      const report = await stopping;
      expect(report).toMatchObject({ result: 'timeout', state: 'stopping' });
      expect(MemshedError.is(report.error, 'timeout')).toBe(true);
      expect(report.error?.fix).toMatch(/force\(\) hook/);
      slow.done();
      await flush();
      expect(registry.get('slow')?.state).toBe('stopped');
    });

    it('leaves essential services alone', async () => {
      const registry = new ServiceRegistry();
      const stop = jest.fn();
      registry.register('db', { stop, essential: true, priority: 'background' });
      expect((await registry.stop('db', options(new ManualScheduler()))).result).toBe('skipped');
      expect(stop).not.toHaveBeenCalled();
    });
  });

  describe('.start', () => {
    it('starts a stopped service with a start hook, and only that', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      const start = jest.fn();
      registry.register('svc', { stop: () => undefined, start });
      expect((await registry.start('svc', options(scheduler))).result).toBe('skipped');
      await registry.stop('svc', options(scheduler));
      expect(await registry.start('svc', options(scheduler))).toMatchObject({
        result: 'started',
        state: 'running',
      });
      expect(start).toHaveBeenCalledTimes(1);
    });

    it('marks a service failed when its start times out', async () => {
      const scheduler = new ManualScheduler();
      const registry = new ServiceRegistry();
      registry.register('svc', { stop: () => undefined, start: () => new Promise<void>(() => undefined) });
      await registry.stop('svc', options(scheduler));
      const starting = registry.start('svc', options(scheduler));
      await flush();
      scheduler.advanceBy(1000);
      const report = await starting;
      expect(report).toMatchObject({ result: 'failed', state: 'failed' });
      expect(report.error?.message).toMatch(/did not start within 1s/);
    });
  });
});

describe(servicesOf, () => {
  it('finds the registry in a container, and explains when the module is not loaded', () => {
    const container = new Container();
    expect(() => servicesOf(container)).toThrow(/service-shutdown module is not loaded/);
    container.bind(ServiceRegistry).toSelf().inSingletonScope();
    expect(servicesOf({ container })).toBe(servicesOf(container));
  });
});
