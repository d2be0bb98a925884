import { MemshedError, formatDuration, loopScheduler } from '@memshed/core';
import {
  PriorityRegistry,
  registryOf,
  type PriorityRegistration,
  type ShedPriority,
} from '@memshed/shed-priority';
import { injectable, type Container } from '@memshed/core/inversify';
import type { SchedulerLike } from 'rxjs';

/** What the application tells memshed about a service it may stop under pressure. */
export interface ServiceDefinition {
  /**
   * Stops gracefully: stop taking work, finish (await) what is in flight, release memory. The
   * signal aborts when the stop timeout expires; the force hook, if any, runs then.
   */
  stop(signal: AbortSignal): void | Promise<void>;
  /** Starts it again after pressure has gone (only when the action is configured to restart). */
  start?(signal: AbortSignal): void | Promise<void>;
  /** Stops at once, dropping in-flight work: used when the graceful stop fails or times out. */
  force?(): void | Promise<void>;
  /** How much it matters; lower priorities are stopped first and at lower levels. Default `normal`. */
  readonly priority?: ShedPriority;
  /** Never stop it, whatever the level. */
  readonly essential?: boolean;
}

/**
 * Where a service is, as far as memshed knows: `running` (registered, or started again),
 * `stopping`, `stopped`, `starting`, or `failed` (a stop or start failed; memshed leaves it alone
 * until the application calls `markRunning`).
 */
export type ServiceState = 'running' | 'stopping' | 'stopped' | 'starting' | 'failed';

/** A registered service and its state. */
export interface ServiceStatus {
  /** Its unique name. */
  readonly name: string;
  /** Its priority. */
  readonly priority: ShedPriority;
  /** Whether memshed must never stop it. */
  readonly essential: boolean;
  /** Its state. */
  readonly state: ServiceState;
  /** Whether it can be started again. */
  readonly restartable: boolean;
}

/** Undoes a registration: `dispose()` unregisters the service (only this registration; idempotent). */
export type ServiceRegistration = PriorityRegistration;

/** Time budgets of a stop or start. */
export interface ServiceTransitionOptions {
  /** Milliseconds for the graceful stop (or the start). */
  readonly timeout: number;
  /** Milliseconds for the force hook after a graceful stop failed or timed out. */
  readonly forceTimeout: number;
  /** Timer for the timeouts. Default: the loop scheduler. */
  readonly scheduler?: SchedulerLike;
}

/**
 * What a stop did to one service.
 *
 * - `stopped`: the graceful stop completed.
 * - `forced`: the graceful stop failed or timed out and the force hook completed.
 * - `timeout`: the graceful stop timed out and there is no force hook; it is still `stopping`
 *   and becomes `stopped` (or `failed`) when it settles.
 * - `failed`: the stop (and force, if any) failed; the service is `failed`.
 * - `skipped`: it was not running (`state` says where it was).
 */
export interface ServiceStopReport {
  readonly name: string;
  readonly priority: ShedPriority;
  readonly result: 'stopped' | 'forced' | 'timeout' | 'failed' | 'skipped';
  /** The service's state after the stop. */
  readonly state: ServiceState;
  /** Milliseconds the stop took (scheduler time). */
  readonly took: number;
  /** Why it failed or timed out. */
  readonly error?: MemshedError;
}

/** What a start did to one service. */
export interface ServiceStartReport {
  readonly name: string;
  readonly result: 'started' | 'failed' | 'skipped';
  readonly state: ServiceState;
  readonly error?: MemshedError;
}

interface Entry {
  readonly name: string;
  readonly definition: ServiceDefinition;
  readonly priority: ShedPriority;
  readonly essential: boolean;
  state: ServiceState;
}

/**
 * The services an application lets memshed stop under pressure, with their priorities
 * (`background < low < normal < high`); essential services are never stopped. The
 * service-shutdown action stops those below a priority, lowest first; the registry guarantees that
 * a service is never stopped twice (only a `running` service is stopped) and never started while
 * it is stopping.
 *
 * Bound as a singleton by the service-shutdown module: `memshed.container.get(ServiceRegistry)`.
 */
@injectable()
export class ServiceRegistry {
  private readonly services = new PriorityRegistry<Entry>({
    noun: 'service',
    registerFix: "register it as registry.register('indexer', { stop, priority })",
  });

  /**
   * Registers a running service.
   *
   * @throws MemshedError `invalid-argument` for a taken name, a missing stop hook or an unknown priority.
   */
  register(name: string, definition: ServiceDefinition): ServiceRegistration {
    return this.services.add(name, definition?.priority, (priority) => {
      // After the registry's name and priority checks: a service without a stop hook is never stored.
      if (typeof definition?.stop !== 'function') {
        throw new MemshedError('invalid-argument', `Service '${name}' has no stop() hook`, {
          fix: 'pass { stop: async (signal) => { ...drain and stop... } }',
        });
      }
      return { name, definition, priority, essential: definition.essential ?? false, state: 'running' };
    });
  }

  /** Unregisters the service named `name`; false when there was none. */
  unregister(name: string): boolean {
    return this.services.delete(name);
  }

  /** The service registered as `name`. */
  get(name: string): ServiceStatus | undefined {
    const entry = this.services.get(name);
    return entry ? status(entry) : undefined;
  }

  /** Every service in stopping order: lowest priority first, then registration order. */
  list(): readonly ServiceStatus[] {
    return this.services.list().map(status);
  }

  /** The running, non-essential services of priority strictly below `below`, in stopping order. */
  select(below: ShedPriority): readonly ServiceStatus[] {
    return this.services
      .listBelow(below)
      .filter((e) => e.state === 'running' && !e.essential)
      .map(status);
  }

  /**
   * Tells memshed that the application has the service running again (after a failure, or after
   * starting it itself).
   */
  markRunning(name: string): void {
    const entry = this.services.get(name);
    if (entry && entry.state !== 'stopping' && entry.state !== 'starting') entry.state = 'running';
  }

  /**
   * Stops one service if it is running: gracefully within `timeout`, then with its force hook
   * (within `forceTimeout`) if the graceful stop failed or timed out. Never rejects.
   */
  async stop(name: string, options: ServiceTransitionOptions): Promise<ServiceStopReport> {
    const entry = this.services.get(name);
    const scheduler = options.scheduler ?? loopScheduler;
    const begin = scheduler.now();
    if (!entry) return { name, priority: 'normal', result: 'skipped', state: 'stopped', took: 0 };
    const report = (result: ServiceStopReport['result'], error?: MemshedError): ServiceStopReport => ({
      name,
      priority: entry.priority,
      result,
      state: entry.state,
      took: scheduler.now() - begin,
      ...(error ? { error } : {}),
    });
    if (entry.state !== 'running' || entry.essential) return report('skipped');

    entry.state = 'stopping';
    const graceful = new AbortController();
    const stopping = invoke(() => entry.definition.stop(graceful.signal));
    const first = await within(stopping, options.timeout, scheduler);
    if (first.kind === 'done') {
      entry.state = 'stopped';
      return report('stopped');
    }
    const failure =
      first.kind === 'timeout'
        ? new MemshedError(
            'timeout',
            `Service '${name}' did not stop within ${formatDuration(options.timeout)}`,
            {
              fix: entry.definition.force
                ? 'raise the stop timeout, or make stop() finish its in-flight work sooner'
                : 'raise the stop timeout, or give the service a force() hook',
              context: { service: name },
            },
          )
        : MemshedError.from(first.error, 'action-failed', `Service '${name}' failed to stop`, {
            context: { service: name },
          });
    graceful.abort(failure);

    if (!entry.definition.force) {
      if (first.kind === 'timeout') {
        // Still stopping: settle its state whenever the stop does.
        stopping.then(
          () => entry.state === 'stopping' && (entry.state = 'stopped'),
          () => entry.state === 'stopping' && (entry.state = 'failed'),
        );
        return report('timeout', failure);
      }
      entry.state = 'failed';
      return report('failed', failure);
    }
    stopping.catch(() => undefined);
    const forced = await within(
      invoke(() => entry.definition.force!()),
      options.forceTimeout,
      scheduler,
    );
    if (forced.kind === 'done') {
      entry.state = 'stopped';
      return report('forced', failure);
    }
    entry.state = 'failed';
    const forceFailure =
      forced.kind === 'timeout'
        ? new MemshedError(
            'timeout',
            `Service '${name}' did not stop within ${formatDuration(options.timeout)}, nor when forced within ${formatDuration(options.forceTimeout)}`,
            { context: { service: name } },
          )
        : MemshedError.from(
            forced.error,
            'action-failed',
            `Service '${name}' failed to stop, even when forced`,
            {
              context: { service: name },
            },
          );
    return report('failed', forceFailure);
  }

  /**
   * Starts one stopped service that has a start hook, within `timeout`. A start that fails or
   * times out leaves the service `failed`. Never rejects.
   */
  async start(
    name: string,
    options: Pick<ServiceTransitionOptions, 'timeout' | 'scheduler'>,
  ): Promise<ServiceStartReport> {
    const entry = this.services.get(name);
    if (!entry) return { name, result: 'skipped', state: 'stopped' };
    if (entry.state !== 'stopped' || !entry.definition.start)
      return { name, result: 'skipped', state: entry.state };
    entry.state = 'starting';
    const controller = new AbortController();
    const starting = invoke(() => entry.definition.start!(controller.signal));
    const outcome = await within(starting, options.timeout, options.scheduler ?? loopScheduler);
    if (outcome.kind === 'done') {
      entry.state = 'running';
      return { name, result: 'started', state: entry.state };
    }
    const error =
      outcome.kind === 'timeout'
        ? new MemshedError(
            'timeout',
            `Service '${name}' did not start within ${formatDuration(options.timeout)}`,
            {
              fix: 'check the service, then call markRunning() once it runs',
              context: { service: name },
            },
          )
        : MemshedError.from(outcome.error, 'action-failed', `Service '${name}' failed to start`, {
            fix: 'check the service, then call markRunning() once it runs',
            context: { service: name },
          });
    controller.abort(error);
    starting.catch(() => undefined);
    entry.state = 'failed';
    return { name, result: 'failed', state: entry.state, error };
  }
}

function status(entry: Entry): ServiceStatus {
  return {
    name: entry.name,
    priority: entry.priority,
    essential: entry.essential,
    state: entry.state,
    restartable: typeof entry.definition.start === 'function',
  };
}

function invoke(hook: () => void | Promise<void>): Promise<void> {
  try {
    return Promise.resolve(hook());
  } catch (error) {
    return Promise.reject(error);
  }
}

type Settled = { kind: 'done' } | { kind: 'timeout' } | { kind: 'error'; error: unknown };

/** How `work` settles within `ms` on the scheduler. */
function within(work: Promise<void>, ms: number, scheduler: SchedulerLike): Promise<Settled> {
  return new Promise<Settled>((resolve) => {
    const timer = scheduler.schedule(() => resolve({ kind: 'timeout' }), ms);
    work.then(
      () => {
        timer.unsubscribe();
        resolve({ kind: 'done' });
      },
      (error: unknown) => {
        timer.unsubscribe();
        resolve({ kind: 'error', error });
      },
    );
  });
}

/**
 * The service registry of a running memshed (or of any container the service-shutdown module was
 * loaded into): `servicesOf(memshed).register('indexer', { stop, priority: 'background' })`.
 *
 * @throws MemshedError `unavailable` when the service-shutdown module is not loaded.
 */
export function servicesOf(owner: { readonly container: Container } | Container): ServiceRegistry {
  return registryOf(owner, {
    registry: ServiceRegistry,
    noun: 'service',
    moduleId: 'service-shutdown',
    moduleExport: 'serviceShutdownModule',
  });
}
