import {
  MemshedError,
  isSkippedSource,
  PRESSURE_LEVELS,
  PRESSURE_STATES,
  levelIndex,
  stateRank,
  type ActionRunRecord,
  type HeadroomReading,
  type PressureEvent,
  type PressureLevel,
  type PressureState,
  type SourceStatus,
} from '@memshed/core';
import { Counter, Gauge, Histogram, register as globalRegistry, type Registry } from 'prom-client';
import type { Observable, Subscription } from 'rxjs';

/**
 * What the metrics follow: a running memshed (`createMemshed()`), or one made from a config
 * (`createMemshedFromConfig()`, which also has `actions$`).
 */
export interface MetricsSource {
  /** The pressure state. */
  readonly level$: Observable<PressureState>;
  /** Every pressure event. */
  readonly events$: Observable<PressureEvent>;
  /** Failures of sources and actions. Optional. */
  readonly errors$?: Observable<MemshedError>;
  /** The sources and their state, read at each scrape. Optional. */
  readonly sources?: readonly SourceStatus[];
  /** The action runner's records (`ConfiguredMemshed.actions$`, `ActionRunner.results$`). Optional. */
  readonly actions$?: Observable<ActionRunRecord>;
}

/** Options of {@link mountMetrics}. */
export interface MountMetricsOptions {
  /** The registry to add the metrics to. Default: prom-client's global `register`. */
  readonly registry?: Registry;
  /** The prefix of every metric name. Default `memshed_`. */
  readonly prefix?: string;
  /**
   * The action records to count, when `memshed` has no `actions$` (e.g. an `ActionRunner` of your
   * own: `runner.results$`).
   */
  readonly actions$?: Observable<ActionRunRecord>;
  /** Buckets of the action duration histogram, in seconds. */
  readonly durationBuckets?: readonly number[];
}

/** The metrics mounted on a registry, and how to take them off. */
export interface MemshedMetrics {
  /** The registry they are on. */
  readonly registry: Registry;
  /** The names of the metrics, in registration order. */
  readonly names: readonly string[];
  /** Stops following memshed and removes the metrics from the registry. Idempotent. */
  close(): void;
}

/** Default buckets of `memshed_action_duration_seconds`: 1 ms to 30 s (action timeouts default to 10 s). */
export const DEFAULT_DURATION_BUCKETS: readonly number[] = Object.freeze([
  0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
]);

/**
 * Adds memshed's metrics to a prom-client registry:
 *
 * | metric | type | labels | meaning |
 * | --- | --- | --- | --- |
 * | `memshed_pressure_level` | gauge | | the state: 0 normal, 1 low, 2 medium, 3 critical |
 * | `memshed_pressure_state` | gauge | `state` | 1 for the current state, 0 for the others |
 * | `memshed_pressure_events_total` | counter | `level`, `source` | pressure events |
 * | `memshed_source_available` | gauge | `source` | 1 while a source runs, 0 when unavailable, failed or stopped; no series for an optional source skipped here |
 * | `memshed_headroom_used_bytes` | gauge | `source`, `target` | bytes in use of a headroom a running source watches (`target`: `container`, `host`, `heap`), as it last read them |
 * | `memshed_headroom_limit_bytes` | gauge | `source`, `target` | that headroom's limit in bytes (+Inf: none) |
 * | `memshed_growth_bytes_per_second` | gauge | `source`, `target` | its steady growth; absent while there is none, and where the source does not predict |
 * | `memshed_time_to_limit_seconds` | gauge | `source`, `target` | seconds to the limit at that growth; +Inf while not growing steadily, absent where the source does not predict |
 * | `memshed_action_runs_total` | counter | `action`, `status`, `dry_run` | action runs by outcome (`ok`, `failed`, `timeout`, `cancelled`, `skipped`) |
 * | `memshed_action_duration_seconds` | histogram | `action`, `status` | how long runs took (skipped runs excluded) |
 * | `memshed_action_freed_bytes_total` | counter | `action` | bytes actions reported freed (dry runs excluded) |
 * | `memshed_errors_total` | counter | `kind` | failures of sources and actions since mounted, plus sources that failed to start (not optional sources skipped as unavailable) |
 *
 * Labels are bounded: levels, states, plugin ids, statuses, error kinds and headroom targets (no
 * scope or cgroup paths). Source and headroom gauges are read from `memshed.sources` at each
 * scrape: a source that stops loses its headroom series.
 *
 * @throws MemshedError `invalid-argument` when the registry already has metrics of these names
 * (mount once per registry, or use another prefix).
 *
 * @example
 * const metrics = mountMetrics(memshed, { registry }); // beside the application's own metrics
 * app.get('/metrics', async (_req, res) => res.type(registry.contentType).send(await registry.metrics()));
 */
export function mountMetrics(memshed: MetricsSource, options: MountMetricsOptions = {}): MemshedMetrics {
  const registry = options.registry ?? globalRegistry;
  const prefix = options.prefix ?? 'memshed_';
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix)) {
    throw new MemshedError(
      'invalid-argument',
      `Metric prefix '${prefix}' is not a valid Prometheus name prefix`,
      {
        fix: "use letters, digits, '_' and ':', not starting with a digit, e.g. 'memshed_'",
      },
    );
  }
  const names: string[] = [];
  const registers = [registry];
  const named = (name: string) => {
    const full = prefix + name;
    if (registry.getSingleMetric(full)) {
      for (const done of names) registry.removeSingleMetric(done);
      throw new MemshedError('invalid-argument', `The registry already has a metric named '${full}'`, {
        fix: 'mount memshed metrics once per registry (close() the earlier mount), or pass another prefix',
      });
    }
    names.push(full);
    return full;
  };

  // Every metric is named with the prefix and registered on the same registries.
  const config = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) => ({
    name: named(name),
    help,
    labelNames,
    registers,
  });

  const level = new Gauge(
    config('pressure_level', 'The memshed pressure state: 0 normal, 1 low, 2 medium, 3 critical'),
  );
  const state = new Gauge(
    config('pressure_state', 'Whether the memshed pressure state is this one (1) or not (0)', ['state']),
  );
  const events = new Counter(
    config('pressure_events_total', 'Memory pressure events, by level and source', ['level', 'source']),
  );
  new Gauge({
    ...config(
      'source_available',
      'Whether a pressure source is running (1) or not: unavailable, failed or stopped (0)',
      ['source'],
    ),
    collect() {
      // Read at scrape time: a source that fails or stops later shows it.
      this.reset();
      for (const source of memshed.sources ?? []) {
        // An optional source unavailable here was skipped on purpose: a 0 would look like an outage
        // to `memshed_source_available == 0` alerts on every machine of the other kind.
        if (isSkippedSource(source)) continue;
        this.set({ source: source.id }, source.state === 'running' ? 1 : 0);
      }
    },
  });
  // Headroom: read at scrape time from what the running sources last read, one series per target.
  const headroomGauge = (
    name: string,
    help: string,
    value: (reading: HeadroomReading) => number | undefined,
  ) =>
    new Gauge({
      ...config(name, help, ['source', 'target']),
      collect() {
        this.reset();
        for (const { source, reading } of headrooms(memshed.sources)) {
          const measured = value(reading);
          if (measured !== undefined) this.set({ source, target: reading.target }, measured);
        }
      },
    });
  headroomGauge(
    'headroom_used_bytes',
    'Bytes in use of a headroom a running source watches (container, host, heap), as it last read them',
    (reading) => reading.usedBytes,
  );
  headroomGauge(
    'headroom_limit_bytes',
    'The limit of a headroom a running source watches, in bytes (+Inf: it has none)',
    (reading) => reading.limitBytes,
  );
  headroomGauge(
    'growth_bytes_per_second',
    "Steady growth of a headroom's usage in bytes per second; absent while there is none, and where the source does not predict",
    (reading) => reading.growthBytesPerSecond,
  );
  headroomGauge(
    'time_to_limit_seconds',
    "Seconds until a headroom's usage reaches its limit at its growth rate (a prediction); +Inf while not growing steadily, absent where the source does not predict",
    (reading) => (reading.timeToLimitMs === undefined ? undefined : reading.timeToLimitMs / 1000),
  );
  const runs = new Counter(
    config(
      'action_runs_total',
      'Shedding action runs, by action, status (ok, failed, timeout, cancelled, skipped) and dry run',
      ['action', 'status', 'dry_run'],
    ),
  );
  const durations = new Histogram({
    ...config('action_duration_seconds', 'How long shedding action runs took, skipped runs excluded', [
      'action',
      'status',
    ]),
    buckets: [...(options.durationBuckets ?? DEFAULT_DURATION_BUCKETS)],
  });
  const freed = new Counter(
    config(
      'action_freed_bytes_total',
      'Bytes shedding actions reported freed (measured or estimated), dry runs excluded',
      ['action'],
    ),
  );
  const errors = new Counter(
    config('errors_total', 'Failures of memshed sources and actions, by kind', ['kind']),
  );

  // Every state has a series from the start, so that rate() and absent() behave.
  for (const each of PRESSURE_STATES) state.set({ state: each }, 0);
  level.set(0);

  // Events come in bursts (a thousand a second from one eventfd): hold one child per series.
  const eventChildren = new Map<string, ReturnType<typeof events.labels>[]>();
  const countEvent = (event: PressureEvent) => {
    let children = eventChildren.get(event.source);
    if (!children) {
      // All three levels of a new source start at 0, so that the first increase shows in rate().
      children = PRESSURE_LEVELS.map((each: PressureLevel) => {
        const child = events.labels(each, event.source);
        child.inc(0);
        return child;
      });
      eventChildren.set(event.source, children);
    }
    children[levelIndex(event.level)].inc();
  };

  const subscriptions: Subscription[] = [
    memshed.level$.subscribe((current) => {
      level.set(stateRank(current));
      for (const each of PRESSURE_STATES) state.set({ state: each }, each === current ? 1 : 0);
    }),
    memshed.events$.subscribe(countEvent),
  ];
  // errors$ replays the sources that did not start (they failed inside createMemshed(), before
  // anyone could subscribe); without it, count them from the sources' status.
  if (memshed.errors$) {
    subscriptions.push(memshed.errors$.subscribe((error) => errors.inc({ kind: error.kind })));
  } else {
    for (const source of memshed.sources ?? []) if (source.error) errors.inc({ kind: source.error.kind });
  }
  const actions$ = options.actions$ ?? memshed.actions$;
  if (actions$) {
    subscriptions.push(
      actions$.subscribe((record) => {
        runs.inc({ action: record.action, status: record.status, dry_run: String(record.dryRun) });
        if (record.status !== 'skipped') {
          durations.observe(
            { action: record.action, status: record.status },
            Math.max(0, record.finishedAt - record.startedAt) / 1000,
          );
        }
        if (
          !record.dryRun &&
          record.status === 'ok' &&
          record.freedBytes !== undefined &&
          record.freedBytes > 0
        ) {
          freed.inc({ action: record.action }, record.freedBytes);
        }
      }),
    );
  }

  let closed = false;
  return {
    registry,
    names,
    close() {
      if (closed) return;
      closed = true;
      for (const subscription of subscriptions) subscription.unsubscribe();
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}

/** The headroom readings of the running sources (a stopped one has none), with their ids. */
function headrooms(
  sources: readonly SourceStatus[] | undefined,
): { source: string; reading: HeadroomReading }[] {
  const out: { source: string; reading: HeadroomReading }[] = [];
  for (const status of sources ?? []) {
    if (status.state !== 'running') continue;
    for (const reading of status.headroom ?? []) out.push({ source: status.id, reading });
  }
  return out;
}
