import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ActionRunner, MemshedError, createMemshed, type Memshed, type SheddingAction } from '@memshed/core';
import { FakeSource, ManualScheduler } from '@memshed/core/testing';
import { Counter, Registry } from 'prom-client';
import { Agent, request } from 'undici';
import { serveMetrics, type MetricsServer } from './serve-metrics';
import { samples } from './testing';

const agent = new Agent({ keepAliveTimeout: 10 });
afterAll(() => agent.close());

async function scrape(url: string) {
  const response = await request(url, { dispatcher: agent });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

let scheduler: ManualScheduler;
let fake: FakeSource;
let memshed: Memshed;
let endpoint: MetricsServer | undefined;

beforeEach(async () => {
  scheduler = new ManualScheduler(1_000);
  fake = new FakeSource('fake');
  const missing = new FakeSource('absent', { available: false, reason: 'not on this machine', hint: 'none' });
  memshed = await createMemshed({ sources: [fake, missing], scheduler, recovery: { quiet: 1000 } });
});

afterEach(async () => {
  await endpoint?.close();
  endpoint = undefined;
  await memshed.stop();
});

describe(serveMetrics, () => {
  it('serves the level, events, sources, action runs, durations, bytes freed and errors on a loopback /metrics', async () => {
    const runner = new ActionRunner({ scheduler, onError: (error) => memshed.monitor.reportError(error) });
    endpoint = await serveMetrics(memshed, { port: 0, actions$: runner.results$ });
    expect(endpoint.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);

    fake.signal('low', '/app');
    scheduler.flush();
    fake.signal('critical', '/app');
    scheduler.flush();

    const purge: SheddingAction = {
      id: 'cache-purge',
      run: async () => {
        scheduler.advanceBy(250);
        return { freedBytes: 64 * 1024 * 1024, estimated: true };
      },
    };
    const broken: SheddingAction = { id: 'gc', run: async () => Promise.reject(new Error('no gc')) };
    await runner.run({ action: purge, cooldown: 10_000 }, { level: 'critical' });
    await runner.run({ action: purge, cooldown: 10_000 }, { level: 'critical' }); // skipped: cooling down
    await runner.run(broken, { level: 'critical' });
    await runner.run({ action: { id: 'cache-purge', run: purge.run }, dryRun: true }, { level: 'critical' });

    const scraped = await scrape(endpoint.url);
    expect(scraped.status).toBe(200);
    expect(scraped.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const values = samples(scraped.text);
    expect(values).toMatchObject({
      memshed_pressure_level: 3,
      'memshed_pressure_state{state="normal"}': 0,
      'memshed_pressure_state{state="critical"}': 1,
      'memshed_pressure_events_total{level="low",source="fake"}': 1,
      'memshed_pressure_events_total{level="critical",source="fake"}': 1,
      'memshed_source_available{source="fake"}': 1,
      'memshed_source_available{source="absent"}': 0,
      'memshed_action_runs_total{action="cache-purge",status="ok",dry_run="false"}': 1,
      'memshed_action_runs_total{action="cache-purge",status="skipped",dry_run="false"}': 1,
      'memshed_action_runs_total{action="cache-purge",status="ok",dry_run="true"}': 1,
      'memshed_action_runs_total{action="gc",status="failed",dry_run="false"}': 1,
      'memshed_action_duration_seconds_bucket{le="0.1",action="cache-purge",status="ok"}': 0,
      'memshed_action_duration_seconds_bucket{le="0.25",action="cache-purge",status="ok"}': 2,
      'memshed_action_duration_seconds_sum{action="cache-purge",status="ok"}': 0.5,
      'memshed_action_duration_seconds_count{action="gc",status="failed"}': 1,
      // The dry run would have freed as much: it is not counted.
      'memshed_action_freed_bytes_total{action="cache-purge"}': 64 * 1024 * 1024,
      // The source that was unavailable at start, and the failed gc run.
      'memshed_errors_total{kind="unavailable"}': 1,
      'memshed_errors_total{kind="action-failed"}': 1,
    });
    expect(Object.keys(values).some((key) => key.includes('skipped') && key.includes('duration'))).toBe(
      false,
    );

    // Recovery in virtual time, and a stopped source, show at the next scrape.
    scheduler.advanceBy(3000);
    const later = samples((await scrape(endpoint.url)).text);
    expect(later).toMatchObject({ memshed_pressure_level: 0, 'memshed_pressure_state{state="normal"}': 1 });
    runner.dispose();
  });

  it('serves the registry it is given, with the application metrics on it', async () => {
    const registry = new Registry();
    new Counter({ name: 'app_requests_total', help: 'requests', registers: [registry] }).inc(3);
    endpoint = await serveMetrics(memshed, { port: 0, registry, path: '/internal/metrics' });
    const values = samples((await scrape(endpoint.url)).text);
    expect(values).toMatchObject({ app_requests_total: 3, memshed_pressure_level: 0 });
    const base = endpoint.url.replace('/internal/metrics', '');
    expect((await scrape(`${base}/metrics`)).status).toBe(404);
    const post = await request(endpoint.url, { dispatcher: agent, method: 'POST', body: '' });
    await post.body.dump();
    expect({ status: post.statusCode, allow: post.headers.allow }).toEqual({
      status: 405,
      allow: 'GET, HEAD',
    });
  });

  it('rejects with an unavailable error when the port is taken, and releases what it mounted', async () => {
    const blocker = createServer();
    blocker.listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const { port } = blocker.address() as AddressInfo;
    const registry = new Registry();
    try {
      const failure = await serveMetrics(memshed, { port, registry }).catch((error: unknown) => error);
      expect(MemshedError.is(failure, 'unavailable')).toBe(true);
      expect((failure as Error).message).toMatch(
        new RegExp(`Cannot serve metrics on 127.0.0.1:${port}: .*EADDRINUSE`),
      );
      expect(registry.getMetricsAsArray()).toHaveLength(0);
    } finally {
      blocker.close();
    }
  });

  it('stops answering after close', async () => {
    endpoint = await serveMetrics(memshed, { port: 0 });
    const { url } = endpoint;
    await endpoint.close();
    await expect(request(url, { dispatcher: agent })).rejects.toThrow(/ECONNREFUSED/);
  });
});
