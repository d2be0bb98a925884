import { AsyncLocalStorage } from 'node:async_hooks';
import { CacheRegistry, cachePurgeModule, type Purgeable } from '@memshed/action-cache-purge';
import { GcEnvironment, gcModule } from '@memshed/action-gc';
import { ServiceRegistry, serviceShutdownModule } from '@memshed/action-service-shutdown';
import {
  MemshedError,
  loadPlugins,
  validateOptions,
  type SheddingAction,
  type SheddingActionFactory,
} from '@memshed/core';
import { toActionSpec, toPolicySpec, type PolicySpec } from '@memshed/policy';
import { ContainerModule, type Container } from '@memshed/core/inversify';
import type { SimulatedCache, SimulatedService } from './simulated-app';
import type { Scenario } from './scenario';
import type { SimulatedMachine } from './simulated-machine';
import { PAGE_SIZE } from './units';

/**
 * The action plugins a scenario's policies can use: memshed's own cache-purge, service-shutdown and
 * gc, with their own option schemas, acting on the simulated application through the hooks below
 * (the gc action also needs {@link simulatedGcModule}).
 */
export const SIMULATED_ACTION_MODULES: readonly ContainerModule[] = Object.freeze([
  cachePurgeModule,
  serviceShutdownModule,
  gcModule,
]);

let factories: readonly SheddingActionFactory[] | undefined;

/** The factories of {@link SIMULATED_ACTION_MODULES}: ids, descriptions and option schemas. */
export function simulatedActionFactories(): readonly SheddingActionFactory[] {
  factories ??= loadPlugins(SIMULATED_ACTION_MODULES).actions;
  return factories;
}

/**
 * A scenario's policies as the policy engine takes them: each action's options validated by its
 * plugin's schema (defaults applied), unnamed policies named by position as in config files.
 */
export function scenarioPolicySpecs(scenario: Pick<Scenario, 'policies'>): PolicySpec[] {
  const known = simulatedActionFactories();
  return scenario.policies.map((policy, index) =>
    toPolicySpec(
      policy,
      policy.name ?? `policies[${index}]`,
      policy.do.map((entry, step) => {
        const factory = known.find((candidate) => candidate.id === entry.use);
        // The loader checked the options; a scenario built in code is checked here, and an unknown
        // action is left for the policy compiler to name.
        const options = factory ? validateOptions(factory.optionsSchema, entry.with) : undefined;
        if (options && !options.ok) {
          const issue = options.issues[0];
          throw new MemshedError(
            'invalid-config',
            `Scenario policies[${index}].do[${step}].with${issue.path && !issue.path.startsWith('[') ? '.' : ''}${issue.path}: ${issue.message}`,
            { fix: `give ${entry.use} the options its schema takes (docs/actions/${entry.use}.md)` },
          );
        }
        return toActionSpec(entry, entry.use, options?.ok ? options.value : entry.with);
      }),
    ),
  );
}

/**
 * Connects a simulated machine's application to the real actions of a memshed container: its caches
 * are registered in the container's {@link CacheRegistry} and its services in the
 * {@link ServiceRegistry} (the gc action's side is {@link simulatedGcModule}). The hooks are
 * synchronous, so an action's effects land as soon as its promise chain runs.
 *
 * The hooks record which policy acted: {@link attribute} wraps an action so that the hooks it calls
 * know the policy it runs for, through promise continuations and all.
 */
export class SimulatedHooks {
  private readonly policy = new AsyncLocalStorage<string | undefined>();
  private readonly stoppedBy = new Map<SimulatedService, string | undefined>();
  private readonly services: ServiceRegistry | undefined;
  private active = false;

  constructor(
    private readonly machine: SimulatedMachine,
    container: Container,
  ) {
    const caches = container.isBound(CacheRegistry) ? container.get(CacheRegistry) : undefined;
    this.services = container.isBound(ServiceRegistry) ? container.get(ServiceRegistry) : undefined;
    for (const workload of machine.workloads) {
      for (const cache of workload.caches) {
        caches?.register(this.keyOf('caches', workload.name, cache.name), this.purgeable(cache), {
          priority: cache.priority,
          tags: cache.tags,
          keep: cache.keep,
        });
      }
      for (const service of workload.services) {
        this.services?.register(this.keyOf('services', workload.name, service.name), {
          priority: service.priority,
          essential: service.essential,
          stop: () => {
            this.active = true;
            const by = this.policy.getStore();
            this.stoppedBy.set(service, by);
            service.stop(by);
          },
          start: () => {
            this.active = true;
            service.start(this.policy.getStore() ?? this.stoppedBy.get(service));
          },
        });
      }
    }
    // A process the OOM killer ended restarts with its services running: tell the registry, or
    // service-shutdown would take them for stopped and never stop them again.
    machine.activity$.subscribe((activity) => {
      if (activity.type !== 'restart') return;
      const workload = machine.workload(activity.workload);
      for (const service of workload?.services ?? [])
        this.services?.markRunning(this.keyOf('services', activity.workload, service.name));
    });
  }

  /**
   * Whether a hook ran since the last call: the action that called it (a chain, or a restart from
   * a timer) may have promises to settle.
   */
  takeActivity(): boolean {
    const active = this.active;
    this.active = false;
    return active;
  }

  /** `action`, with the hooks it calls attributed to the policy it runs for. */
  attribute(action: SheddingAction): SheddingAction {
    return {
      id: action.id,
      run: (context) => this.policy.run(context.policy, () => action.run(context)),
    };
  }

  /** `factories`, creating attributed actions (see {@link attribute}). */
  attributeAll(list: readonly SheddingActionFactory[]): SheddingActionFactory[] {
    return list.map((factory) => ({
      id: factory.id,
      description: factory.description,
      optionsSchema: factory.optionsSchema,
      create: (options: unknown) => this.attribute(factory.create(options)),
    }));
  }

  /** A cache's or service's name in its registry: its own, unless two workloads use that name. */
  private keyOf(kind: 'caches' | 'services', workload: string, name: string): string {
    const shared = this.machine.workloads.filter((other) =>
      other[kind].some((item: { name: string }) => item.name === name),
    );
    return shared.length > 1 ? `${workload}/${name}` : name;
  }

  private purgeable(cache: SimulatedCache): Purgeable {
    const drop = (fraction: number) => {
      this.active = true;
      const entries = Math.round(cache.owner.pages * fraction);
      // An empty cache has nothing to drop: no action to record.
      if (entries === 0) return { entries: 0, bytes: 0 };
      const bytes = cache.purge(fraction, this.policy.getStore());
      return { entries, bytes };
    };
    return {
      // One entry per page: the model's unit of cache.
      size: () => ({ entries: cache.owner.pages, bytes: cache.owner.pages * PAGE_SIZE }),
      trim: (fraction) => drop(fraction),
      clear: () => drop(1),
    };
  }
}

/**
 * The gc action's environment in a simulation: a collection finds nothing (purged pages have left
 * the model already) and takes no time (the model has no GC pauses: timing it on the host's clock
 * would make the rate limit's time share, and so the run, depend on the machine), malloc_trim does
 * not exist, and samples are the simulated application's anonymous memory and the root group's
 * usage, so that the action's record reads like the model.
 */
export function simulatedGcModule(machineOf: () => SimulatedMachine | undefined): ContainerModule {
  const environment: GcEnvironment = {
    obtainGc: () => ({ available: true, gc: () => undefined, via: 'global' }),
    mallocTrim: () => ({
      available: false,
      released: false,
      reason: 'simulated: purged pages leave the model at once',
    }),
    sample: () => {
      const machine = machineOf();
      let anon = 0;
      for (const workload of machine?.workloads ?? []) anon += workload.anonPages * PAGE_SIZE;
      return {
        rss: anon,
        heapUsed: anon,
        heapTotal: anon,
        external: 0,
        arrayBuffers: 0,
        cgroup: (machine?.root.usage ?? 0) * PAGE_SIZE,
      };
    },
    sweeping: () => ({ available: false, reason: 'simulated' }),
    now: () => 0,
  };
  return new ContainerModule(({ bind }) => {
    bind<GcEnvironment>(GcEnvironment).toConstantValue(environment);
  });
}
