import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { FakeSource, ManualScheduler } from '@memshed/core/testing';
import { samples } from '@memshed/prometheus/testing';
import { Agent, request } from 'undici';
import { parseAllDocuments } from 'yaml';
import { startServer, type RunningServer } from './server';

const agent = new Agent({ keepAliveTimeout: 10 });

async function get(url: string) {
  const response = await request(url, { dispatcher: agent });
  const text = await response.body.text();
  return { status: response.statusCode, text, json: () => JSON.parse(text) as unknown };
}

/** The ConfigMap's .memshedrc.yaml, as the pod sees it mounted. */
function configMapConfig(): string {
  const file = join(__dirname, '..', 'manifests', 'configmap.yaml');
  const [document] = parseAllDocuments(readFileSync(file, 'utf8'));
  return (document.toJS() as { data: Record<string, string> }).data['.memshedrc.yaml'];
}

describe('examples/kubernetes service', () => {
  let running: RunningServer;
  let scheduler: ManualScheduler;
  let fake: FakeSource;
  let directory: string;

  /** Moves memshed's clock, then lets the actions it started finish. */
  async function advanceBy(ms: number) {
    scheduler.advanceBy(ms);
    for (let i = 0; i < 10; i++) await nextTurn();
  }

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'memshed-k8s-'));
    const configFile = join(directory, '.memshedrc.yaml');
    writeFileSync(configFile, configMapConfig());
    scheduler = new ManualScheduler(1_700_000_000_000);
    fake = new FakeSource();
    running = await startServer({ port: 0, configFile, sources: [fake], scheduler });
  });

  afterAll(async () => {
    await running?.close();
    await agent.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('serves the API, the probes and the metrics with the config of the ConfigMap', async () => {
    const { url } = running;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await get(`${url}/api/items/a1`)).json()).toMatchObject({ id: 'a1', bytes: 16 * 1024 });
    expect(running.items.size).toBe(1);
    expect(await get(`${url}/readyz`)).toMatchObject({ status: 200 });
    expect((await get(`${url}/livez`)).json()).toEqual({ alive: true });
    const metrics = samples((await get(`${url}/metrics`)).text);
    expect(metrics.memshed_pressure_level).toBe(0);
    expect((await get(`${url}/nowhere`)).status).toBe(404);
  });

  it('sheds the API at once, leaves the Service after the hold, keeps liveness and metrics, comes back after recovery', async () => {
    const { url } = running;
    fake.signal('critical');
    await advanceBy(0);
    const api = await get(`${url}/api/items/b1`);
    // The policy's gc may have given memory back first: the shedder then serves again, by design.
    if (running.shedder.status().release === undefined) expect(api.status).toBe(503);
    expect((await get(`${url}/readyz`)).status).toBe(200);

    // Sustained: critical events every second for the hold, as the system and v8 sources repeat.
    for (let second = 0; second < 2; second++) {
      await advanceBy(1000);
      fake.signal('critical');
      await advanceBy(0);
    }
    expect((await get(`${url}/readyz`)).json()).toMatchObject({ ready: false, reason: 'memory-pressure' });
    expect((await get(`${url}/livez`)).status).toBe(200);
    const metrics = samples((await get(`${url}/metrics`)).text);
    expect(metrics.memshed_pressure_level).toBe(3);
    // The policy purged the item cache at critical.
    expect(running.items.size).toBe(0);

    // critical -> medium -> low (5 s quiet each), then 10 s below medium.
    await advanceBy(2 * 5000);
    expect((await get(`${url}/readyz`)).status).toBe(503);
    await advanceBy(10_000);
    expect((await get(`${url}/readyz`)).json()).toEqual({ ready: true, state: 'normal' });
    expect((await get(`${url}/api/items/b1`)).status).toBe(200);
  });
});
