// The metadata API decorators need (TypeScript's design:paramtypes, inversify's own keys), without
// the full polyfill's Map/Set/WeakMap fallbacks for old runtimes: inversify imports this same file,
// so the start-up path loads one of reflect-metadata's two files, not both. An
// application that loads the full 'reflect-metadata' shares the same registry.
import 'reflect-metadata/lite';
import { Container, ContainerModule } from './inversify';
import type { Observable, SchedulerLike } from 'rxjs';
import {
  bindContributionProvider,
  contributionProviderId,
  type ContributionProvider,
} from './contribution-provider';
import { createEngine, type PressureEngine, type PressureEvent } from './engine';
import { MemshedError } from './errors';
import type { PressureLevel, PressureState } from './levels';
import { silentLogger, type Logger } from './logger';
import { PressureMonitor, type ListenOptions, type MonitorOptions } from './monitor';
import {
  PressureSourceFactory,
  SheddingActionFactory,
  validateOptions,
  type HeadroomReading,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from './plugin';
import { ActionRunner } from './runner/action-runner';
import type { ActionRunRecord } from './runner/action-run-record';
import { loopScheduler } from './scheduler';
import { knownNamesHint } from './suggest';

/** A source named by plugin id, with its options, as in config: `{ use: 'psi', with: {...} }`. */
export interface SourceSpec {
  /** The plugin id. */
  readonly use: string;
  /** The plugin's options, validated by its schema. */
  readonly with?: unknown;
  /**
   * Whether the source may be missing here: when its `availability()` says no, it is skipped
   * (status `unavailable`, an info line in the log) instead of becoming a standing error. One list
   * of sources then serves machines of both kinds, e.g. `cgroup-v1` beside `psi`. Only "not
   * available here" is forgiven: a `start()` that throws, a failure while it runs, or an
   * `availability()` that throws is an error as for any source. Default `false`.
   */
  readonly optional?: boolean;
}

/** Options of {@link createMemshed}. */
export interface MemshedOptions {
  /** Plugin modules: each binds source and action factories (and whatever else they need). */
  readonly modules?: readonly ContainerModule[];
  /** The sources to start: plugin specs resolved through the loaded modules, or ready instances. */
  readonly sources?: readonly (SourceSpec | PressureSource)[];
  /** Recovery and re-notification of `level$`. */
  readonly recovery?: MonitorOptions;
  /** The engine window in pages (default 512, the kernel's). */
  readonly window?: number;
  /** Time and work scheduling; tests pass a TestScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Where to log. Default: silent. */
  readonly logger?: Logger;
  /** The action runner's defaults: dry-run everything, per-action timeout in ms (default 10 s). */
  readonly actions?: { readonly dryRun?: boolean; readonly timeout?: number };
}

/**
 * Extension point: a plugin that gives the application something to call at run time (the cache
 * registry, the service registry) binds a facet, and `createMemshed` defines `memshed[property]`
 * from it. The plugin also augments the `Memshed` interface so the property is typed:
 *
 * ```ts
 * declare module '@memshed/core' { interface Memshed { readonly caches: CacheRegistry } }
 * ```
 */
export const MemshedFacet = Symbol('MemshedFacet');
/** Extension point: a property of the running memshed that a plugin provides. */
export interface MemshedFacet {
  /** The property name on the memshed object, e.g. `caches`. */
  readonly property: string;
  /** Resolves the value from the container (called once, on first access). */
  resolve(container: Container): unknown;
}

/** A started source and how it is doing. */
export interface SourceStatus {
  /** The plugin id. */
  readonly id: string;
  /**
   * `running`, `unavailable` (availability said no; skipped without an error when `optional`),
   * `failed` (start threw), `stopped`.
   */
  readonly state: 'running' | 'unavailable' | 'failed' | 'stopped';
  /** Whether its spec said `optional: true` (see {@link SourceSpec.optional}). */
  readonly optional: boolean;
  /** Availability as reported at start: for an unavailable source, why not and the fix. */
  readonly availability: SourceAvailability;
  /**
   * While it runs, what the source sees now (its `detail()`, e.g. a growth rate and the time to
   * its limit) where it says; else the availability's detail.
   */
  readonly detail?: string;
  /**
   * While it runs, the headrooms it watches as it last read them (its `headroom()`, asked at each
   * read of this property), e.g. the container's usage, limit, growth and time to limit; `[]` for a
   * source without one, or whose `headroom()` throws. Undefined for a source that did not start.
   */
  readonly headroom?: readonly HeadroomReading[];
  /**
   * Why it is not running, when that is an error: every source that is not running, except an
   * optional one that was unavailable here (its `availability` says why).
   */
  readonly error?: MemshedError;
}

/**
 * A running memshed: the engine, the monitor, the started sources, and a clean stop. Plugins add
 * typed properties to it through {@link MemshedFacet} and module augmentation of this interface
 * (e.g. `memshed.caches` from `@memshed/action-cache-purge`).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the augmentation point of plugin facets
export interface Memshed extends MemshedCore {}

/** What every running memshed has, whatever plugins are loaded. */
export interface MemshedCore {
  /** The inversify container holding every service and plugin. */
  readonly container: Container;
  /** The vmpressure engine all sources feed. */
  readonly engine: PressureEngine;
  /** The monitor: events, state, listeners, errors. */
  readonly monitor: PressureMonitor;
  /** Shorthand for `monitor.events$`. */
  readonly events$: Observable<PressureEvent>;
  /** Shorthand for `monitor.level$`. */
  readonly level$: Observable<PressureState>;
  /** Shorthand for `monitor.errors$`. */
  readonly errors$: Observable<MemshedError>;
  /** Shorthand for `monitor.actions$`: a record of every action run. */
  readonly actions$: Observable<ActionRunRecord>;
  /** The action runner: timeouts, cancellation, cooldowns, chains; records on `actions$`. */
  readonly runner: ActionRunner;
  /** The sources and their state. */
  readonly sources: readonly SourceStatus[];
  /** Shorthand for `monitor.listen()`. */
  listen(level: PressureLevel, options?: ListenOptions): Observable<PressureEvent>;
  /** Stops every source, releases every fd, timer and subscription, completes every stream. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Builds the container from core services and plugin modules, resolves and starts the sources,
 * and returns the running memshed. A source that is unavailable or fails to start is reported on
 * `errors$` (replayed to every subscriber, so one that subscribes after this resolves still sees
 * it), in the log, and in `sources`; the others run. An `optional` source that is unavailable is
 * only skipped: `sources` says why, the log says so at info level, `errors$` has nothing. But when
 * sources were given, none runs and an optional one was skipped, a standing `unavailable` error
 * says that nothing is watched, naming every source tried and why it is not running (without
 * optional sources, each of them has its own error already). Bad specs (unknown id, invalid
 * options) reject with a MemshedError naming the key path, before anything starts.
 *
 * @example
 * const memshed = await createMemshed({ modules: [psiModule], sources: [{ use: 'psi' }] });
 * memshed.level$.subscribe((state) => console.log(state));
 * await memshed.stop();
 */
export async function createMemshed(options: MemshedOptions = {}): Promise<Memshed> {
  const scheduler = options.scheduler ?? loopScheduler;
  const logger = options.logger ?? silentLogger;
  const engine = createEngine({ window: options.window, scheduler });
  const monitor = new PressureMonitor(engine, options.recovery);

  const runner = new ActionRunner({
    scheduler,
    logger,
    state$: monitor.level$,
    dryRun: options.actions?.dryRun ?? false,
    ...(options.actions?.timeout !== undefined ? { timeout: options.actions.timeout } : {}),
    onError: (error) => monitor.reportError(error),
  });
  const recording = runner.results$.subscribe((record) => monitor.recordAction(record));

  // Nothing of core is bound for plugins to inject: sources get the engine, scheduler and logger
  // through their sink at start, actions through their context at each run.
  const { container, sources: factories } = loadPlugins(options.modules ?? []);

  const sources = (options.sources ?? []).map((spec, index) => resolveSource(spec, index, factories));

  const statuses: SourceStatus[] = [];
  const running: PressureSource[] = [];
  for (const { source, optional } of sources) {
    const status = await startSource(source, optional, engine, monitor, logger);
    statuses.push(status);
    if (status.state === 'running') running.push(source);
  }
  if (running.length === 0 && statuses.some(isSkippedSource)) {
    const error = nothingRunningError(statuses);
    logger.error(error.message);
    monitor.reportError(error, { standing: true });
  }

  let stopped: Promise<void> | undefined;
  const memshed: MemshedCore = {
    container,
    engine,
    monitor,
    runner,
    events$: monitor.events$,
    level$: monitor.level$,
    errors$: monitor.errors$,
    actions$: monitor.actions$,
    get sources() {
      return statuses;
    },
    listen: (level, listenOptions) => monitor.listen(level, listenOptions),
    stop() {
      stopped ??= (async () => {
        for (const source of running.reverse()) {
          try {
            await source.stop();
          } catch (error) {
            const failure = MemshedError.from(error, 'source-failed', `Source '${source.id}' failed to stop`);
            logger.error(failure.message);
            monitor.reportError(failure);
          }
          const index = statuses.findIndex((s) => s.id === source.id && s.state === 'running');
          if (index >= 0) statuses[index] = { ...statuses[index], state: 'stopped' };
        }
        runner.dispose();
        recording.unsubscribe();
        engine.dispose();
        monitor.dispose();
        await container.unbindAllAsync();
      })();
      return stopped;
    },
  };
  return defineFacets(memshed, container);
}

/** Defines each facet's property on `memshed`; the plugins' augmentations of `Memshed` type them. */
function defineFacets(memshed: MemshedCore, container: Container): Memshed {
  const facets = container.getAll<MemshedFacet>(MemshedFacet, { optional: true });
  for (const facet of facets) {
    if (facet.property in memshed) {
      throw new MemshedError('internal', `Two plugins define memshed.${facet.property}`, {
        fix: 'load only one of the plugins that provide it',
      });
    }
    let value: unknown;
    let resolved = false;
    Object.defineProperty(memshed, facet.property, {
      enumerable: true,
      get: () => {
        if (!resolved) {
          value = facet.resolve(container);
          resolved = true;
        }
        return value;
      },
    });
  }
  return memshed as Memshed;
}

/** The plugins a set of modules provides, and the container they were loaded into. */
export interface LoadedPlugins {
  /** The container with the extension points' providers and the modules loaded. */
  readonly container: Container;
  /** Every source factory the modules bound, in binding order. */
  readonly sources: readonly PressureSourceFactory[];
  /** Every action factory the modules bound, in binding order. */
  readonly actions: readonly SheddingActionFactory[];
}

/**
 * Loads plugin modules into a new container and lists the factories they provide, without
 * creating or starting anything (what `memshed plugins` and `memshed doctor` need).
 */
export function loadPlugins(modules: readonly ContainerModule[]): LoadedPlugins {
  const container = new Container();
  container.load(...coreModules(), ...modules);
  const provider = <T>(point: symbol) =>
    container.get<ContributionProvider<T>>(contributionProviderId(point)).getContributions();
  return {
    container,
    sources: provider<PressureSourceFactory>(PressureSourceFactory),
    actions: provider<SheddingActionFactory>(SheddingActionFactory),
  };
}

function coreModules(): ContainerModule[] {
  // The providers are bound once, in the root container, before plugins bind contributions.
  return [
    new ContainerModule(({ bind }) => {
      bindContributionProvider(bind, PressureSourceFactory);
      bindContributionProvider(bind, SheddingActionFactory);
    }),
  ];
}

function isSource(spec: SourceSpec | PressureSource): spec is PressureSource {
  return typeof (spec as PressureSource).start === 'function';
}

/**
 * Whether a source was skipped: optional, and unavailable here (not an error; its `availability`
 * says why). Status lines and metrics show it as skipped rather than as an outage.
 */
export function isSkippedSource(status: SourceStatus): boolean {
  return status.optional && status.state === 'unavailable' && status.error === undefined;
}

/** The standing error of a memshed that watches nothing because its optional sources were skipped. */
function nothingRunningError(statuses: readonly SourceStatus[]): MemshedError {
  const tried = statuses.map((status) => {
    const why = !status.availability.available
      ? `unavailable: ${status.availability.reason}`
      : 'failed to start (see its error)';
    return `${status.id}${status.optional ? ' (optional)' : ''} ${why}`;
  });
  return new MemshedError(
    'unavailable',
    `No source is running, memshed watches nothing: ${tried.join('; ')}`,
    {
      fix: 'make one of these sources available here, or add one that is (run `memshed doctor` to see which work on this machine)',
      context: { sources: statuses.map((status) => status.id) },
    },
  );
}

function resolveSource(
  spec: SourceSpec | PressureSource,
  index: number,
  factories: readonly PressureSourceFactory[],
): { source: PressureSource; optional: boolean } {
  if (isSource(spec)) return { source: spec, optional: false };
  const factory = factories.find((f) => f.id === spec.use);
  if (!factory) {
    throw new MemshedError(
      'unknown-plugin',
      `sources[${index}].use: unknown source '${spec.use}'. ${knownNamesHint(
        spec.use,
        factories.map((f) => f.id),
      )}`,
      { fix: 'name a loaded source plugin, or load its module', context: { path: `sources[${index}].use` } },
    );
  }
  const validated = validateOptions(factory.optionsSchema, spec.with);
  if (!validated.ok) {
    const first = validated.issues[0];
    const path = `sources[${index}].with${first.path ? '.' + first.path : ''}`;
    throw new MemshedError('invalid-config', `${path}: ${first.message}`, {
      context: { path, issues: validated.issues },
    });
  }
  // Only `true` forgives: anything else keeps the loud default.
  return { source: factory.create(validated.value), optional: spec.optional === true };
}

async function startSource(
  source: PressureSource,
  optional: boolean,
  engine: PressureEngine,
  monitor: PressureMonitor,
  logger: Logger,
): Promise<SourceStatus> {
  const report = (error: MemshedError, standing = false) => {
    logger.error(error.message);
    monitor.reportError(error, { standing });
  };
  let availability: SourceAvailability;
  let checked = true;
  try {
    availability = await source.availability();
  } catch (error) {
    checked = false;
    availability = { available: false, reason: String(error), hint: 'see the error' };
  }
  // An availability() that throws did not say "not here": it failed, which optional does not forgive.
  if (!availability.available && optional && checked) {
    logger.info(`source '${source.id}' skipped: it is optional and unavailable here: ${availability.reason}`);
    return { id: source.id, state: 'unavailable', optional, availability };
  }
  if (!availability.available) {
    const error = new MemshedError(
      'unavailable',
      `Source '${source.id}' is unavailable: ${availability.reason}`,
      {
        fix: availability.hint,
        context: { source: source.id },
      },
    );
    logger.warn(error.message);
    monitor.reportError(error, { standing: true });
    return { id: source.id, state: 'unavailable', optional, availability, error };
  }
  const sink: PressureSink = {
    source: source.id,
    scheduler: engine.scheduler,
    logger,
    node: (path) => engine.node(path, source.id),
    error: (error, message) =>
      report(
        MemshedError.from(error, 'source-failed', message ?? `Source '${source.id}' failed`, {
          context: { source: source.id },
        }),
      ),
  };
  try {
    await source.start(sink);
    logger.info(`source '${source.id}' started${availability.detail ? `: ${availability.detail}` : ''}`);
    return {
      id: source.id,
      state: 'running',
      optional,
      availability,
      get detail() {
        // A source written before this contract may have a member of that name that is no method.
        if (typeof source.detail !== 'function') return availability.detail;
        try {
          return source.detail() ?? availability.detail;
        } catch {
          // Read by status, `memshed run` and on stop: a faulty plugin must not fail those.
          return availability.detail;
        }
      },
      get headroom() {
        if (typeof source.headroom !== 'function') return [];
        try {
          return source.headroom();
        } catch {
          // Read at every metrics scrape and on stop: a faulty plugin must not fail those.
          return [];
        }
      },
    };
  } catch (error) {
    const failure = MemshedError.from(error, 'source-failed', `Source '${source.id}' failed to start`, {
      context: { source: source.id },
    });
    report(failure, true);
    try {
      await source.stop();
    } catch {
      // It never started: nothing more to release or report.
    }
    return { id: source.id, state: 'failed', optional, availability, error: failure };
  }
}
