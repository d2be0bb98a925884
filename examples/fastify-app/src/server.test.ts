import { FakeSource, ManualScheduler } from '@memshed/core/testing';
import { Agent, request } from 'undici';
import { startServer, type RunningServer } from './server';

const agent = new Agent({ keepAliveTimeout: 10 });

async function get(url: string) {
  const response = await request(url, { dispatcher: agent });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

describe('fastify-app', () => {
  let running: RunningServer | undefined;
  let scheduler: ManualScheduler;
  let fake: FakeSource;

  beforeEach(async () => {
    scheduler = new ManualScheduler(0);
    fake = new FakeSource();
    running = await startServer({ port: 0, metricsPort: 0, sources: [fake], scheduler });
  });

  afterEach(async () => {
    await running?.close();
    running = undefined;
  });

  afterAll(() => agent.close());

  it('sheds low-priority routes at medium, everything but /healthz at critical, and recovers after normal', async () => {
    const { url, metrics } = running!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(metrics.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect((await get(`${url}/api/export`)).status).toBe(200);

    fake.signal('medium');
    scheduler.flush();
    expect((await get(`${url}/api/export`)).status).toBe(503);
    expect((await get(`${url}/api/search?q=x`)).status).toBe(200);

    fake.signal('critical');
    scheduler.flush();
    const shed = await get(`${url}/api/search?q=x`);
    expect({ status: shed.status, retryAfter: shed.headers['retry-after'] }).toEqual({
      status: 503,
      retryAfter: '10',
    });
    expect((await get(`${url}/healthz`)).text).toBe('ok');
    expect(JSON.parse((await get(`${url}/memshed/status`)).text)).toMatchObject({
      level: 'critical',
      counters: { accepted: 3, shed: 2 },
    });
    expect((await get(metrics.url)).text).toMatch(/^memshed_pressure_level 3$/m);

    scheduler.advanceBy(15_000);
    expect((await get(`${url}/api/search?q=x`)).status).toBe(200);
    expect((await get(metrics.url)).text).toMatch(/^memshed_pressure_level 0$/m);
  });
});
