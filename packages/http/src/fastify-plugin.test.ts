import underPressure from '@fastify/under-pressure';
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyLoadShedding } from './fastify-plugin';
import { LoadShedder } from './load-shedder';
import { deferred, httpTestbed } from './test-support/harness';

const testbed = httpTestbed();
const { http } = testbed;

/** Listens with `app` on a free loopback port; closed after the test (closing twice is harmless). */
async function start(app: FastifyInstance): Promise<string> {
  testbed.closeAfter(() => app.close());
  return app.listen({ port: 0, host: '127.0.0.1' });
}

describe('fastifyLoadShedding', () => {
  it('answers 503 + Retry-After under critical, keeps essential routes, completes the request in flight, recovers after normal', async () => {
    const entered = deferred();
    const release = deferred();
    const app = Fastify();
    await app.register(fastifyLoadShedding, {
      memshed: testbed.harness.memshed,
      retryAfter: 5,
      exposeStatusRoute: '/memshed/status',
    });
    app.get('/healthz', { config: { loadShedding: { priority: 'essential' } } }, async () => 'ok');
    app.get('/items', async () => ({ items: [1, 2] }));
    app.get('/slow', async () => {
      entered.resolve();
      await release.promise;
      return { done: true };
    });
    const url = await start(app);

    const inFlight = http.fetch(`${url}/slow`);
    await entered.promise;
    testbed.harness.signal('critical');

    const shed = await http.fetch(`${url}/items`);
    expect({ status: shed.status, retry: shed.headers['retry-after'], body: shed.json() }).toEqual({
      status: 503,
      retry: '5',
      body: {
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Service Unavailable: the server is shedding load under memory pressure',
        level: 'critical',
      },
    });
    expect(shed.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((await http.fetch(`${url}/healthz`)).text).toBe('ok');
    release.resolve();
    expect((await inFlight).json()).toEqual({ done: true });

    const status = await http.fetch(`${url}/memshed/status`);
    expect(status.json()).toMatchObject({
      level: 'critical',
      counters: { accepted: 2, shed: 1, inFlight: 0 },
    });
    expect(app.loadShedder.state).toBe('critical');

    testbed.harness.recover();
    expect((await http.fetch(`${url}/items`)).status).toBe(200);
  });

  it('sheds low-priority routes at medium and honours route and plugin pressure handlers', async () => {
    const app = Fastify();
    await app.register(fastifyLoadShedding, {
      memshed: testbed.harness.memshed,
      // As in @fastify/under-pressure: a returned value is sent as the reply.
      pressureHandler: async () => ({ degraded: true }),
    });
    app.get('/reports', { config: { loadShedding: { priority: 'low' } } }, async () => 'report');
    app.get(
      '/search',
      {
        config: {
          loadShedding: {
            pressureHandler: (_request, reply) => reply.code(429).send({ slowDown: true }),
          },
        },
      },
      async () => 'results',
    );
    app.get('/items', async () => 'items');
    const url = await start(app);

    testbed.harness.signal('medium');
    expect((await http.fetch(`${url}/items`)).text).toBe('items');
    expect((await http.fetch(`${url}/reports`)).json()).toEqual({ degraded: true });
    testbed.harness.signal('critical');
    const search = await http.fetch(`${url}/search`);
    expect({ status: search.status, body: search.json() }).toEqual({ status: 429, body: { slowDown: true } });
  });

  it('works beside @fastify/under-pressure: either one sheds', async () => {
    const shedder = new LoadShedder(testbed.harness.memshed);
    const app = Fastify();
    await app.register(underPressure, { maxEventLoopDelay: 60_000, retryAfter: 9 });
    await app.register(fastifyLoadShedding, { shedder });
    app.get('/items', async () => 'items');
    const url = await start(app);

    expect((await http.fetch(`${url}/items`)).status).toBe(200);
    testbed.harness.signal('critical');
    const shed = await http.fetch(`${url}/items`);
    expect({ status: shed.status, retry: shed.headers['retry-after'] }).toEqual({ status: 503, retry: '10' });
    // A shedder passed in is the caller's: closing the server leaves it following memshed.
    await app.close();
    expect(shedder.state).toBe('critical');
  });

  it('refuses to register without memshed or a shedder', async () => {
    const app = Fastify();
    testbed.closeAfter(() => app.close());
    await expect(app.register(fastifyLoadShedding, {}).ready()).rejects.toThrow(/needs the running memshed/);
  });
});
