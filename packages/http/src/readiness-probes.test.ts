import { createServer } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { fastifyLoadShedding, fastifyReadinessProbes } from './fastify-plugin';
import { koaLoadShedding } from './koa-adapter';
import { LoadShedder } from './load-shedder';
import { loadShedding, withLoadShedding } from './node-adapter';
import { Readiness } from './readiness';
import { koaReadinessProbes, readinessProbes } from './readiness-probes';
import { httpTestbed, QUIET_MS } from './test-support/harness';

const testbed = httpTestbed();
const { http } = testbed;

/** A server of one framework, with probes and load shedding in front of `/api`. */
interface ProbedServer {
  readonly url: string;
  readonly shedder: LoadShedder;
}

type Framework = (readiness: Readiness) => Promise<ProbedServer>;

const frameworks: Array<[string, Framework]> = [
  [
    // The shedder first, told that the probes are essential.
    'node:http (shedder first, readiness.routes)',
    async (readiness) => {
      const shedder = new LoadShedder(testbed.harness.memshed, { routes: [...readiness.routes] });
      const probes = readinessProbes(readiness);
      const server = createServer(
        withLoadShedding(shedder, (request, response) => {
          if (probes(request, response)) return;
          response.end('api');
        }),
      );
      return { url: (await testbed.listen(server)).url, shedder };
    },
  ],
  [
    'express (probes first)',
    async (readiness) => {
      const shedder = new LoadShedder(testbed.harness.memshed);
      const app = express();
      app.use(readinessProbes(readiness));
      app.use(loadShedding(shedder));
      app.get('/api', (_request, response) => {
        response.send('api');
      });
      return { url: (await testbed.listen(createServer(app))).url, shedder };
    },
  ],
  [
    'koa (probes first)',
    async (readiness) => {
      const shedder = new LoadShedder(testbed.harness.memshed);
      const app = new Koa();
      app.use(koaReadinessProbes(readiness));
      app.use(koaLoadShedding(shedder));
      app.use(async (context) => {
        context.body = 'api';
      });
      return { url: (await testbed.listen(createServer(app.callback()))).url, shedder };
    },
  ],
  [
    // Registered after the shedder: the probe routes are essential by their own config.
    'fastify (shedding plugin first)',
    async (readiness) => {
      const app = Fastify();
      testbed.closeAfter(() => app.close());
      await app.register(fastifyLoadShedding, { memshed: testbed.harness.memshed });
      await app.register(fastifyReadinessProbes, { readiness });
      app.get('/api', async () => 'api');
      return { url: await app.listen({ port: 0, host: '127.0.0.1' }), shedder: app.loadShedder };
    },
  ],
];

describe.each(frameworks)('readiness probes on %s', (_name, start) => {
  it('ready -> not ready after the hold -> stays out while the state flaps -> ready after recovery; liveness always 200; probes never shed', async () => {
    const { harness } = testbed;
    const readiness = new Readiness(harness.memshed, { hold: '2s', recovery: '10s' });
    const { url, shedder } = await start(readiness);
    const probe = async (path: string) => {
      const response = await http.fetch(`${url}${path}`);
      return { status: response.status, body: response.json(), cache: response.headers['cache-control'] };
    };
    const live = async () => (await probe('/livez')).status;

    expect(await probe('/readyz')).toEqual({
      status: 200,
      body: { ready: true, state: 'normal' },
      cache: 'no-store',
    });
    expect(await probe('/livez')).toEqual({ status: 200, body: { alive: true }, cache: 'no-store' });

    harness.signal('critical');
    expect((await http.fetch(`${url}/api`)).status).toBe(503); // the shedder sheds the API at once
    expect((await probe('/readyz')).status).toBe(200); // the hold has not passed
    // Pressure goes on: events every second, as the system and v8 sources repeat their level.
    harness.scheduler.advanceBy(1000);
    harness.signal('critical');
    harness.scheduler.advanceBy(999);
    harness.signal('critical');
    expect((await probe('/readyz')).status).toBe(200);
    harness.scheduler.advanceBy(1);
    harness.signal('critical');
    expect(await probe('/readyz')).toEqual({
      status: 503,
      body: {
        ready: false,
        reason: 'memory-pressure',
        message: 'memory pressure at critical or above for 2s; ready again after 10s below medium',
        state: 'critical',
      },
      cache: 'no-store',
    });
    expect(await live()).toBe(200);

    // The monitor steps down one level per quiet period: medium (inside the band), then low.
    harness.scheduler.advanceBy(QUIET_MS);
    expect((await probe('/readyz')).body).toMatchObject({ ready: false, state: 'medium' });
    harness.scheduler.advanceBy(QUIET_MS);
    expect((await probe('/readyz')).body).toMatchObject({ ready: false, state: 'low' });
    // Pressure comes back before the recovery period ends: it starts over.
    harness.scheduler.advanceBy(8000);
    harness.signal('medium');
    expect((await probe('/readyz')).body).toMatchObject({ ready: false, state: 'medium' });
    expect(await live()).toBe(200);
    harness.scheduler.advanceBy(QUIET_MS); // low again: the recovery period starts
    harness.scheduler.advanceBy(9999);
    expect((await probe('/readyz')).status).toBe(503);
    harness.scheduler.advanceBy(1);
    expect(await probe('/readyz')).toEqual({
      status: 200,
      body: { ready: true, state: 'normal' },
      cache: 'no-store',
    });
    expect((await http.fetch(`${url}/api`)).text).toBe('api');

    // Only the API request was shed: no probe ever was.
    expect(shedder.counters.shed).toBe(1);
  });
});

describe(readinessProbes, () => {
  it('answers HEAD, leaves other methods and paths to the app, and composes check()', async () => {
    let databaseUp = true;
    const probes = readinessProbes(testbed.harness.memshed, {
      readinessPath: '/health/ready',
      livenessPath: '/health/live',
      check: async () => (databaseUp ? true : { ready: false, reason: 'database unreachable' }),
    });
    const server = await testbed.listen(
      createServer((request, response) => {
        if (probes(request, response)) return;
        response.end(`app ${request.method} ${request.url}`);
      }),
    );
    expect((await http.fetch(`${server.url}/health/ready`, { method: 'HEAD' })).status).toBe(200);
    expect((await http.fetch(`${server.url}/health/ready`, { method: 'POST' })).text).toBe(
      'app POST /health/ready',
    );
    expect((await http.fetch(`${server.url}/readyz`)).text).toBe('app GET /readyz');

    databaseUp = false;
    const down = await http.fetch(`${server.url}/health/ready?verbose=1`);
    expect({ status: down.status, body: down.json() }).toEqual({
      status: 503,
      body: { ready: false, reason: 'check-failed', message: 'database unreachable', state: 'normal' },
    });
    expect((await http.fetch(`${server.url}/health/live`)).status).toBe(200);
    probes.readiness.close();
  });

  it('is shed like any route when the shedder comes first without readiness.routes (why they exist)', async () => {
    const readiness = new Readiness(testbed.harness.memshed, { hold: 0 });
    const probes = readinessProbes(readiness);
    const server = await testbed.listen(
      createServer(
        withLoadShedding(testbed.harness.memshed, (request, response) => {
          if (!probes(request, response)) response.end('api');
        }),
      ),
    );
    testbed.harness.signal('critical');
    // A liveness probe shed with 503 would make the kubelet restart the pod.
    expect((await http.fetch(`${server.url}/livez`)).status).toBe(503);
    readiness.close();
  });
});

describe('fastifyReadinessProbes', () => {
  it('makes its own readiness from { memshed } (options applied, closed with the server), and will not start without either', async () => {
    const app = Fastify();
    testbed.closeAfter(() => app.close());
    await app.register(fastifyReadinessProbes, {
      memshed: testbed.harness.memshed,
      hold: 0,
      readinessPath: '/health/ready',
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    testbed.harness.signal('critical');
    expect((await http.fetch(`${url}/health/ready`)).status).toBe(503);
    expect((await http.fetch(`${url}/livez`)).status).toBe(200);
    const readiness = app.readiness;
    await app.close();
    expect(readiness.readyForMemory).toBe(true);

    await expect(Fastify().register(fastifyReadinessProbes, {}).ready()).rejects.toThrow(
      'fastifyReadinessProbes needs the running memshed or a readiness',
    );
  });
});
