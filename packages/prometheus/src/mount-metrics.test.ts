import { ActionRunner, createMemshed, type Memshed } from '@memshed/core';
import { FakeSource, ManualScheduler } from '@memshed/core/testing';
import { Registry } from 'prom-client';
import { mountMetrics } from './mount-metrics';
import { samples } from './testing';

let scheduler: ManualScheduler;
let fake: FakeSource;
let memshed: Memshed;

beforeEach(async () => {
  scheduler = new ManualScheduler(1_000);
  fake = new FakeSource('fake');
  memshed = await createMemshed({ sources: [fake], scheduler, recovery: { quiet: 1000 } });
});

afterEach(() => memshed.stop());

describe(mountMetrics, () => {
  it('refuses a second mount on the same registry, and mounts again after close', () => {
    const registry = new Registry();
    const first = mountMetrics(memshed, { registry });
    expect(() => mountMetrics(memshed, { registry })).toThrow(
      /already has a metric named 'memshed_pressure_level'/,
    );
    const prefixed = mountMetrics(memshed, { registry, prefix: 'app_memshed_' });
    expect(prefixed.names).toContain('app_memshed_pressure_events_total');
    first.close();
    expect(registry.getSingleMetric('memshed_pressure_level')).toBeUndefined();
    expect(() => mountMetrics(memshed, { registry }).close()).not.toThrow();
  });

  it('follows a memshed stream of action records (createMemshedFromConfig exposes actions$)', async () => {
    const registry = new Registry();
    const runner = new ActionRunner({ scheduler });
    const metrics = mountMetrics({ ...memshed, actions$: runner.results$ }, { registry });
    await runner.run({ id: 'gc', run: async () => ({ freedBytes: 1000 }) }, { level: 'medium' });
    const values = samples(await registry.metrics());
    expect(values['memshed_action_freed_bytes_total{action="gc"}']).toBe(1000);
    metrics.close();
    runner.dispose();
  });

  it('holds one series per level and source from the first event, and stops counting after close', async () => {
    const registry = new Registry();
    const metrics = mountMetrics(memshed, { registry });
    for (let i = 0; i < 1000; i++) {
      fake.signal('medium', `/app/${i % 7}`);
      scheduler.flush();
    }
    let values = samples(await registry.metrics());
    expect(values['memshed_pressure_events_total{level="medium",source="fake"}']).toBe(1000);
    // Scope paths are not labels: the series count does not grow with the cgroup tree.
    expect(Object.keys(values).filter((key) => key.startsWith('memshed_pressure_events_total'))).toHaveLength(
      3,
    );
    metrics.close();
    fake.signal('critical');
    scheduler.flush();
    values = samples(await registry.metrics());
    expect(values).toEqual({});
  });
});
