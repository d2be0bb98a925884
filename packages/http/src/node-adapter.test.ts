import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import express from 'express';
import { LoadShedder } from './load-shedder';
import { loadShedding, withLoadShedding } from './node-adapter';
import { deferred, httpTestbed } from './test-support/harness';

const testbed = httpTestbed();
const { http } = testbed;

/** An Express 5 API: a health check, a slow route the test holds open, reports and a status route. */
function expressApp(shedder: LoadShedder, slow: { entered: () => void; release: Promise<void> }) {
  const app = express();
  app.use(loadShedding(shedder));
  app.get('/healthz', (_req, res) => {
    res.send('ok');
  });
  app.get('/api/slow', async (_req, res) => {
    slow.entered();
    await slow.release;
    res.json({ done: true });
  });
  app.get('/api/items', (_req, res) => {
    res.json({ items: [1, 2, 3] });
  });
  app.get('/api/reports', loadShedding(shedder, { priority: 'low' }), (_req, res) => {
    res.json({ report: 'ready' });
  });
  return app;
}

describe(loadShedding, () => {
  describe('with Express 5', () => {
    it('answers 503 + Retry-After under critical, keeps the health route, completes the request in flight, recovers after normal', async () => {
      const shedder = new LoadShedder(testbed.harness.memshed, {
        routes: [{ path: '/healthz', priority: 'essential' }],
        retryAfter: 7,
        exposeStatusRoute: '/memshed/status',
      });
      const entered = deferred();
      const release = deferred();
      const server = await testbed.listen(
        createServer(expressApp(shedder, { entered: () => entered.resolve(), release: release.promise })),
      );

      expect((await http.fetch(`${server.url}/api/items`)).status).toBe(200);

      // A request is in flight when pressure turns critical...
      const inFlight = http.fetch(`${server.url}/api/slow`);
      await entered.promise;
      testbed.harness.signal('critical');

      // ...new requests are shed,
      const shed = await http.fetch(`${server.url}/api/items`);
      expect(shed.status).toBe(503);
      expect(shed.headers['retry-after']).toBe('7');
      expect(shed.headers['cache-control']).toBe('no-store');
      expect(shed.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Service Unavailable: the server is shedding load under memory pressure',
        level: 'critical',
      });
      // ...the health route is not,
      const health = await http.fetch(`${server.url}/healthz`);
      expect({ status: health.status, text: health.text }).toEqual({ status: 200, text: 'ok' });
      // ...and the request in flight completes.
      expect(shedder.counters.inFlight).toBe(1);
      release.resolve();
      const completed = await inFlight;
      expect({ status: completed.status, body: completed.json() }).toEqual({
        status: 200,
        body: { done: true },
      });

      const status = await http.fetch(`${server.url}/memshed/status`);
      expect(status.status).toBe(200);
      expect(status.json()).toMatchObject({
        level: 'critical',
        since: testbed.harness.scheduler.now(),
        events: [{ level: 'critical', scope: '/', source: 'fake', count: 1 }],
        counters: { accepted: 3, shed: 1, inFlight: 0, shedByPriority: { normal: 1 } },
      });

      // Virtual time passes without events: critical -> medium -> low -> normal.
      testbed.harness.recover();
      expect(testbed.harness.memshed.monitor.state).toBe('normal');
      expect((await http.fetch(`${server.url}/api/items`)).status).toBe(200);
    });

    it('sheds a route guarded as low priority at medium while normal routes are served', async () => {
      const shedder = new LoadShedder(testbed.harness.memshed);
      const server = await testbed.listen(
        createServer(expressApp(shedder, { entered: () => {}, release: Promise.resolve() })),
      );
      testbed.harness.signal('medium');
      expect((await http.fetch(`${server.url}/api/items`)).status).toBe(200);
      const report = await http.fetch(`${server.url}/api/reports`);
      expect(report.status).toBe(503);
      expect(report.json()).toMatchObject({ level: 'medium' });
      expect(shedder.counters).toMatchObject({ accepted: 1, shed: 1, shedByPriority: { low: 1 } });
    });

    it('hands shed requests to the pressure handler, which answers or lets them through', async () => {
      const app = express();
      app.use(
        loadShedding(testbed.harness.memshed, {
          pressureHandler: (req, res) => {
            if (req.url === '/cached') {
              res.writeHead(200, { 'X-From': 'stale-cache' });
              res.end('stale');
            }
            if (req.url === '/broken') throw new Error('handler bug');
          },
        }),
      );
      app.get('/{*path}', (_req, res) => {
        res.send('fresh');
      });
      const server = await testbed.listen(createServer(app));
      testbed.harness.signal('critical');

      const cached = await http.fetch(`${server.url}/cached`);
      expect({ status: cached.status, text: cached.text, from: cached.headers['x-from'] }).toEqual({
        status: 200,
        text: 'stale',
        from: 'stale-cache',
      });
      expect((await http.fetch(`${server.url}/through`)).text).toBe('fresh');
      expect((await http.fetch(`${server.url}/broken`)).status).toBe(503);
    });

    it('passes a classify() failure to the Express error handler', async () => {
      const app = express();
      app.use(
        loadShedding(testbed.harness.memshed, {
          classify: () => {
            throw new Error('no user');
          },
        }),
      );
      app.use((error: Error, _req: IncomingMessage, res: ServerResponse, _next: () => void) => {
        res.statusCode = 500;
        res.end(error.message);
      });
      const server = await testbed.listen(createServer(app));
      const failed = await http.fetch(`${server.url}/`);
      expect(failed.status).toBe(500);
      expect(failed.text).toMatch(/classify\(\) option threw: no user/);
    });
  });

  describe('with node:http', () => {
    it('returns whether it answered, so a plain listener can return early', async () => {
      const shed = loadShedding(testbed.harness.memshed, {
        routes: [{ path: '/healthz', priority: 'essential' }],
      });
      const served: string[] = [];
      const server = await testbed.listen(
        createServer((req, res) => {
          if (shed(req, res)) return;
          served.push(req.url ?? '');
          res.end('ok');
        }),
      );
      testbed.harness.signal('critical');
      const results = await Promise.all([http.fetch(`${server.url}/a`), http.fetch(`${server.url}/healthz`)]);
      expect(results.map((r) => r.status)).toEqual([503, 200]);
      expect(served).toEqual(['/healthz']);
      expect(shed.shedder.counters).toMatchObject({ accepted: 1, shed: 1 });
    });
  });
});

describe(withLoadShedding, () => {
  it('wraps a request listener: shed requests never reach it, HEAD gets the headers', async () => {
    const seen: string[] = [];
    const listener = withLoadShedding(
      testbed.harness.memshed,
      (req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.end('ok');
      },
      { exposeStatusRoute: true, levels: { normal: 'medium' } },
    );
    const server = await testbed.listen(createServer(listener));
    expect((await http.fetch(`${server.url}/one`)).status).toBe(200);
    testbed.harness.signal('medium');
    const shed = await http.fetch(`${server.url}/two`, { method: 'HEAD' });
    expect({ status: shed.status, text: shed.text, retry: shed.headers['retry-after'] }).toEqual({
      status: 503,
      text: '',
      retry: '10',
    });
    const status = await http.fetch(`${server.url}/status`);
    expect(status.json()).toMatchObject({ level: 'medium', counters: { accepted: 1, shed: 1 } });
    expect(seen).toEqual(['GET /one']);
    testbed.harness.recover();
    expect((await http.fetch(`${server.url}/three`, { method: 'POST', body: 'x' })).status).toBe(200);
  });
});
