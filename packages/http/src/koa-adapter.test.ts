import { createServer } from 'node:http';
import Koa from 'koa';
import { koaLoadShedding } from './koa-adapter';
import { LoadShedder } from './load-shedder';
import { deferred, httpTestbed } from './test-support/harness';

const testbed = httpTestbed();
const { http } = testbed;

describe(koaLoadShedding, () => {
  it('answers 503 + Retry-After under critical, keeps the health route, completes the request in flight, recovers after normal', async () => {
    const entered = deferred();
    const release = deferred();
    const app = new Koa();
    const shedding = koaLoadShedding(testbed.harness.memshed, {
      routes: [{ path: '/healthz', priority: 'essential' }],
      exposeStatusRoute: '/memshed/status',
      retryAfter: 3,
    });
    app.use(shedding);
    app.use(async (ctx) => {
      if (ctx.path === '/slow') {
        entered.resolve();
        await release.promise;
      }
      ctx.body = { path: ctx.path };
    });
    const server = await testbed.listen(createServer(app.callback()));

    const inFlight = http.fetch(`${server.url}/slow`);
    await entered.promise;
    testbed.harness.signal('critical');

    const shed = await http.fetch(`${server.url}/items`);
    expect({ status: shed.status, retry: shed.headers['retry-after'], body: shed.json() }).toEqual({
      status: 503,
      retry: '3',
      body: expect.objectContaining({ statusCode: 503, level: 'critical' }),
    });
    expect(shed.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((await http.fetch(`${server.url}/healthz`)).status).toBe(200);
    release.resolve();
    expect((await inFlight).json()).toEqual({ path: '/slow' });

    const status = await http.fetch(`${server.url}/memshed/status`);
    expect({ status: status.status, cache: status.headers['cache-control'] }).toEqual({
      status: 200,
      cache: 'no-store',
    });
    expect(status.json()).toMatchObject({
      level: 'critical',
      counters: { accepted: 2, shed: 1, inFlight: 0 },
    });

    testbed.harness.recover();
    expect((await http.fetch(`${server.url}/items`)).status).toBe(200);
  });

  it('shares one shedder with route-level priorities and a pressure handler that answers or lets through', async () => {
    const shedder = new LoadShedder(testbed.harness.memshed);
    const app = new Koa();
    app.use(
      koaLoadShedding(shedder, {
        pressureHandler: (ctx) => {
          if (ctx.req.url === '/teapot') {
            ctx.status = 418;
            ctx.body = 'busy brewing';
          }
        },
      }),
    );
    const lowPriority = koaLoadShedding(shedder, { priority: 'low' });
    app.use(async (ctx, next) => (ctx.path.startsWith('/reports') ? lowPriority(ctx, next) : next()));
    app.use(async (ctx) => {
      ctx.body = 'served';
    });
    const server = await testbed.listen(createServer(app.callback()));

    testbed.harness.signal('medium');
    expect((await http.fetch(`${server.url}/items`)).text).toBe('served');
    expect((await http.fetch(`${server.url}/reports/1`)).status).toBe(503);
    testbed.harness.signal('critical');
    const teapot = await http.fetch(`${server.url}/teapot`);
    expect({ status: teapot.status, text: teapot.text }).toEqual({ status: 418, text: 'busy brewing' });
    expect((await http.fetch(`${server.url}/other`)).text).toBe('served');
    expect(shedder.counters).toMatchObject({ accepted: 1, shed: 3, shedByPriority: { low: 1, normal: 2 } });
  });
});
