import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ServiceRegistry } from '@memshed/action-service-shutdown';
import type { ActionRunRecord, PressureState } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { samples } from '@memshed/prometheus/testing';
import { VmscanSimSource, loadScenario } from '@memshed/source-vmscan-sim';
import { Agent, request } from 'undici';
import { EXAMPLE_DIR, startServer, type RunningServer } from './server';

const agent = new Agent({ keepAliveTimeout: 10 });

async function get(url: string, method: 'GET' | 'POST' = 'GET', body?: unknown) {
  const response = await request(url, {
    dispatcher: agent,
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: () => JSON.parse(text) as unknown,
  };
}

describe('express-app', () => {
  let running: RunningServer | undefined;
  let scheduler: ManualScheduler;
  const states: PressureState[] = [];
  const actions: ActionRunRecord[] = [];

  /** Moves the simulated machine and memshed's clock to `ms`, then lets the actions finish. */
  async function advanceTo(ms: number) {
    scheduler.advanceTo(ms);
    for (let i = 0; i < 20; i++) await nextTurn();
  }

  beforeAll(async () => {
    scheduler = new ManualScheduler(0);
    const simulated = new VmscanSimSource({
      scenario: loadScenario(join(EXAMPLE_DIR, 'scenarios', 'burst.yaml')),
    });
    running = await startServer({ port: 0, sources: [simulated], scheduler });
    running.memshed!.level$.subscribe((state) => states.push(state));
    running.memshed!.actions$.subscribe((record) => actions.push(record));
  });

  afterAll(async () => {
    await running?.close();
    await agent.close();
  });

  it("loads the default policy's sources, cgroup-v1 optional so that cgroup v2 hosts run it without an error", () => {
    expect(running!.memshed!.config.sources.map((source) => [source.use, source.optional])).toEqual([
      ['v8', false],
      ['system', false],
      ['cgroup-v1', true],
    ]);
  });

  it('listens on loopback and serves the API while the simulated machine is calm', async () => {
    const { url } = running!;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    for (let id = 0; id < 40; id++) expect((await get(`${url}/api/items/${id}`)).status).toBe(200);
    expect((await get(`${url}/api/jobs`, 'POST', { size: 4096 })).status).toBe(202);
    await advanceTo(15_000);
    expect(states).toEqual(['normal']);
    expect(running!.items.cache.size).toBe(40);
    expect((await get(`${url}/api/reports/daily`)).status).toBe(200);
  });

  it('at critical: sheds requests with 503 + Retry-After, keeps /healthz and /metrics, purges the cache, stops the jobs', async () => {
    const { url } = running!;
    await advanceTo(30_000); // the burst starts at 20 s: reclaim fails at once
    expect(states).toEqual(['normal', 'critical']);
    // The gc may have given memory back (the shedder then stops shedding), but the simulated
    // machine goes on failing to reclaim: its next critical events make the shedder shed again.
    await advanceTo(30_200);

    const shed = await get(`${url}/api/items/1`);
    expect({ status: shed.status, retryAfter: shed.headers['retry-after'] }).toEqual({
      status: 503,
      retryAfter: '5',
    });
    expect(shed.json()).toMatchObject({ error: 'Service Unavailable', level: 'critical' });
    expect((await get(`${url}/api/jobs`, 'POST', {})).status).toBe(503);
    expect((await get(`${url}/healthz`)).text).toBe('ok');

    // The policies ran: the whole cache purged, the job service stopped, garbage collected.
    expect(running!.items.cache.size).toBe(0);
    expect(running!.jobs.state).toBe('stopped');
    expect(running!.memshed!.container.get(ServiceRegistry).get('jobs')?.state).toBe('stopped');
    // Both policies hold at critical and fire together: trim-caches purges at the critical level
    // (everything) and collects; drop-extras stops the jobs. trim-caches has no cooldown: it runs
    // again on the first critical event after its run completed, but no sooner than a gap as long
    // as the run took (capped at 1 s; the clock jumped to 30 s while it ran): by 30.2 s, once.
    expect(
      actions.map((r) => `${r.policy}/${r.action}:${r.status}${r.skipped ? `(${r.skipped})` : ''}`).sort(),
    ).toEqual(['drop-extras/service-shutdown:ok', 'trim-caches/cache-purge:ok', 'trim-caches/gc:ok']);

    const metrics = samples((await get(`${url}/metrics`)).text);
    expect(metrics).toMatchObject({
      memshed_pressure_level: 3,
      'memshed_source_available{source="vmscan-sim"}': 1,
      'memshed_action_runs_total{action="service-shutdown",status="ok",dry_run="false"}': 1,
    });
    expect(metrics['memshed_pressure_events_total{level="critical",source="vmscan-sim"}']).toBeGreaterThan(
      100,
    );
    expect(metrics['memshed_action_freed_bytes_total{action="cache-purge"}']).toBe(40 * 32 * 1024);

    const status = (await get(`${url}/memshed/status`)).json() as Record<string, unknown>;
    expect(status).toMatchObject({ level: 'critical', counters: { shed: 2 } });
    expect(Object.keys(status)).toEqual(expect.arrayContaining(['level', 'since', 'events', 'counters']));
  });

  it('steps back down to normal after the burst, serves again, and restarts the jobs after 30 s of normal', async () => {
    const { url } = running!;
    await advanceTo(70_000); // calm from 50 s, then one quiet period (5 s) per step
    expect(states.slice(-1)).toEqual(['normal']);
    const item = await get(`${url}/api/items/1`);
    expect(item.status).toBe(200);
    expect(running!.jobs.state).toBe('stopped');
    await advanceTo(110_000);
    expect(running!.jobs.state).toBe('running');
    expect((await get(`${url}/api/jobs`, 'POST', {})).status).toBe(202);
  });
});
