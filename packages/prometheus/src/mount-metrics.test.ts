import {
  ActionRunner,
  PressureSourceFactory,
  createMemshed,
  noOptions,
  type HeadroomReading,
  type Memshed,
  type PressureSource,
} from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
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

/** A `cgroup-v1` source plugin that is unavailable here, as on a cgroup v2 host. */
const cgroupV2Host = new ContainerModule(({ bind }) => {
  bind(PressureSourceFactory).toConstantValue({
    id: 'cgroup-v1',
    description: 'unavailable here',
    optionsSchema: noOptions,
    create: () =>
      new FakeSource('cgroup-v1', { available: false, reason: 'the host has cgroup v2', hint: 'use psi' }),
  });
});

/** The series of the metrics named `name` (with the prefix), by labels. */
function seriesOf(values: Record<string, number>, name: string): Record<string, number> {
  return Object.fromEntries(Object.entries(values).filter(([key]) => key.startsWith(`memshed_${name}`)));
}

describe(mountMetrics, () => {
  describe('optional sources', () => {
    it('counts no error and shows no series for an optional source skipped as unavailable', async () => {
      const host = await createMemshed({
        modules: [cgroupV2Host],
        sources: [{ use: 'cgroup-v1', optional: true }, new FakeSource('fake')],
        scheduler,
      });
      const registry = new Registry();
      // With errors$ (a memshed), and without it (only the statuses, read at scrape).
      const metrics = mountMetrics(host, { registry });
      const fromStatuses = mountMetrics(
        { level$: host.level$, events$: host.events$, sources: host.sources },
        { registry, prefix: 'statuses_' },
      );
      const values = samples(await registry.metrics());
      expect(seriesOf(values, 'errors_total')).toEqual({});
      expect(seriesOf(values, 'source_available')).toEqual({ 'memshed_source_available{source="fake"}': 1 });
      expect(Object.keys(values).filter((key) => key.startsWith('statuses_errors_total'))).toEqual([]);
      metrics.close();
      fromStatuses.close();
      await host.stop();
    });

    it('counts the unavailable source when it is not optional, and nothing running when all were skipped', async () => {
      const required = await createMemshed({
        modules: [cgroupV2Host],
        sources: [{ use: 'cgroup-v1' }, new FakeSource('fake')],
        scheduler,
      });
      const registry = new Registry();
      const metrics = mountMetrics(required, { registry });
      let values = samples(await registry.metrics());
      expect(seriesOf(values, 'errors_total')).toEqual({ 'memshed_errors_total{kind="unavailable"}': 1 });
      expect(seriesOf(values, 'source_available')).toEqual({
        'memshed_source_available{source="cgroup-v1"}': 0,
        'memshed_source_available{source="fake"}': 1,
      });
      metrics.close();
      await required.stop();

      const nothing = await createMemshed({
        modules: [cgroupV2Host],
        sources: [{ use: 'cgroup-v1', optional: true }],
        scheduler,
      });
      const again = mountMetrics(nothing, { registry });
      values = samples(await registry.metrics());
      // The one error is that nothing runs, not the skipped source.
      expect(seriesOf(values, 'errors_total')).toEqual({ 'memshed_errors_total{kind="unavailable"}': 1 });
      again.close();
      await nothing.stop();
    });
  });

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

  describe('headroom', () => {
    const MiB = 1024 * 1024;
    /** A running source whose headroom() says what the test sets, as the system and v8 sources do. */
    function headroomSource(id: string, readings: () => readonly HeadroomReading[]): PressureSource {
      return {
        id,
        availability: () => ({ available: true }),
        start: () => undefined,
        stop: () => undefined,
        headroom: readings,
      };
    }
    const reading = (target: HeadroomReading['target'], fields: Partial<HeadroomReading> = {}) => ({
      target,
      usedBytes: 100 * MiB,
      limitBytes: 256 * MiB,
      growthBytesPerSecond: undefined,
      timeToLimitMs: Infinity,
      time: 1000,
      ...fields,
    });
    const headroomSeries = (values: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(values).filter(([key]) => /^memshed_(headroom_|growth_|time_to_limit_)/.test(key)),
      );

    it('reads used, limit, growth and time to limit of the running sources at each scrape, by source and target', async () => {
      let container: HeadroomReading = reading('container', { usedBytes: 160 * MiB });
      const system = headroomSource('system', () => [
        container,
        // The host part does not predict: no growth, no time to limit.
        reading('host', { usedBytes: 3000 * MiB, limitBytes: 8000 * MiB, timeToLimitMs: undefined }),
      ]);
      const v8 = headroomSource('v8', () => [reading('heap', { limitBytes: Infinity })]);
      // A source without headroom() has no headroom series.
      const running = await createMemshed({ sources: [system, v8, new FakeSource('plain')], scheduler });
      const registry = new Registry();
      const metrics = mountMetrics(running, { registry });

      expect(headroomSeries(samples(await registry.metrics()))).toEqual({
        'memshed_headroom_used_bytes{source="system",target="container"}': 160 * MiB,
        'memshed_headroom_used_bytes{source="system",target="host"}': 3000 * MiB,
        'memshed_headroom_used_bytes{source="v8",target="heap"}': 100 * MiB,
        'memshed_headroom_limit_bytes{source="system",target="container"}': 256 * MiB,
        'memshed_headroom_limit_bytes{source="system",target="host"}': 8000 * MiB,
        'memshed_headroom_limit_bytes{source="v8",target="heap"}': Infinity,
        // No steady growth: no growth series, and the limit does not come (+Inf); none for the host.
        'memshed_time_to_limit_seconds{source="system",target="container"}': Infinity,
        'memshed_time_to_limit_seconds{source="v8",target="heap"}': Infinity,
      });

      container = reading('container', {
        usedBytes: 200 * MiB,
        growthBytesPerSecond: 50 * MiB,
        timeToLimitMs: 1120,
      });
      const text = await registry.metrics();
      expect(headroomSeries(samples(text))).toMatchObject({
        'memshed_headroom_used_bytes{source="system",target="container"}': 200 * MiB,
        'memshed_growth_bytes_per_second{source="system",target="container"}': 50 * MiB,
        'memshed_time_to_limit_seconds{source="system",target="container"}': 1.12,
      });
      // As Prometheus reads it: +Inf is a valid sample value, so `< 10` is false while not growing.
      expect(text).toContain('memshed_time_to_limit_seconds{source="v8",target="heap"} +Inf\n');
      expect(text).toContain('# TYPE memshed_time_to_limit_seconds gauge\n');

      await running.stop();
      // Stopped sources have no headroom series; their availability says why.
      const stopped = samples(await registry.metrics());
      expect(headroomSeries(stopped)).toEqual({});
      expect(stopped['memshed_source_available{source="system"}']).toBe(0);
      metrics.close();
    });
  });
});
