import type { MemoryGroup } from './memory-group';
import type { ShedPriority } from '@memshed/shed-priority';
import type { ScenarioCache, ScenarioService, ScenarioWorkload } from './scenario';
import { PAGE_SIZE } from './units';

/**
 * A holder of anonymous memory in a workload: the heap, a cache, a service, a leak, a spike.
 * Its pages are split into hot (working set) and cold by its hot fraction; they are resident on the
 * group's anon lists or swapped out, in the group's proportions.
 */
export class AnonOwner {
  /** Hot pages, resident or swapped. */
  hot = 0;
  /** Cold pages, resident or swapped. */
  cold = 0;
  private hotCarry = 0;

  constructor(
    /** What it is, e.g. `cache:thumbnails`. */
    readonly name: string,
    /** The share of new pages that are hot. */
    readonly hotFraction: number,
  ) {}

  /** Pages held. */
  get pages(): number {
    return this.hot + this.cold;
  }

  /** Splits `pages` new pages into hot and cold (carrying the fraction, so that small steps add up right). */
  split(pages: number): { hot: number; cold: number } {
    const share = this.hotCarry + pages * this.hotFraction;
    const hot = Math.min(pages, Math.floor(share));
    this.hotCarry = share - hot;
    return { hot, cold: pages - hot };
  }
}

/**
 * What the simulated application's hooks call into: the machine frees the pages and records what
 * was done (for the timeline, the JSON lines and the plot).
 */
export interface AppHost {
  /** Frees `pages` of `owner` in `workload`'s group; returns the bytes freed from memory and swap. */
  free(workload: SimulatedWorkload, owner: AnonOwner, pages: number): number;
  /** Queues `pages` of new memory for `owner` (charged, with reclaim if need be, in the next slice). */
  allocate(workload: SimulatedWorkload, owner: AnonOwner, pages: number): void;
  /** Records a shedding action. */
  recordAction(record: AppAction): void;
}

/** A shedding action done to the simulated application, as its hooks report it to the machine. */
export interface AppAction {
  /** The workload acted on. */
  readonly workload: SimulatedWorkload;
  /** What was done: `cache-purge`, `service-shutdown`, `service-start`. */
  readonly action: string;
  /** The cache or service it was done to. */
  readonly target: string;
  /** Bytes freed from memory and swap. */
  readonly freedBytes: number;
  /** The policy that did it, when known. */
  readonly by?: string;
}

/**
 * What a cache and a service of the simulated application share: the workload they belong to, their
 * definition, and anonymous memory that the machine frees when memshed sheds them.
 */
export abstract class SimulatedHook<
  Spec extends { readonly name: string; readonly priority: ShedPriority; readonly hot: number },
> {
  /** Its anonymous memory. */
  readonly owner: AnonOwner;
  /** Fractional page carried between ticks of growth. */
  carry = 0;

  protected constructor(
    protected readonly host: AppHost,
    /** The workload it belongs to. */
    readonly workload: SimulatedWorkload,
    /** Its definition. */
    readonly spec: Spec,
    kind: 'cache' | 'service',
  ) {
    this.owner = new AnonOwner(`${kind}:${spec.name}`, spec.hot);
  }

  /** Its name. */
  get name(): string {
    return this.spec.name;
  }

  /** Its shedding priority: `background` is shed first, `high` last. */
  get priority(): ShedPriority {
    return this.spec.priority;
  }

  /** Bytes it holds. */
  get bytes(): number {
    return this.owner.pages * PAGE_SIZE;
  }

  /** Frees `pages` of its memory and records `action`, attributed to `by`; returns the bytes freed. */
  protected shed(action: string, pages: number, by: string | undefined): number {
    const freedBytes = this.host.free(this.workload, this.owner, pages);
    this.host.recordAction({ workload: this.workload, action, target: this.name, freedBytes, by });
    return freedBytes;
  }
}

/** A cache of the simulated application: it fills up to its maximum; purging frees part of it. */
export class SimulatedCache extends SimulatedHook<ScenarioCache> {
  constructor(host: AppHost, workload: SimulatedWorkload, spec: ScenarioCache) {
    super(host, workload, spec, 'cache');
  }

  /** Whether it is never purged. */
  get keep(): boolean {
    return this.spec.keep;
  }

  /** Its tags. */
  get tags(): readonly string[] {
    return this.spec.tags;
  }

  /**
   * Drops `fraction` of the entries (1 = everything): the hook a cache-purge action calls. The
   * pages leave the group at once (the model has no garbage collector to wait for). Returns the
   * bytes freed; records the action, attributed to `by` (a policy name) when given.
   */
  purge(fraction = 1, by?: string): number {
    return this.shed('cache-purge', Math.round(this.owner.pages * Math.min(1, Math.max(0, fraction))), by);
  }
}

/** A service of the simulated application: it holds memory and may grow while running; stopping frees it all. */
export class SimulatedService extends SimulatedHook<ScenarioService> {
  private isRunning = true;

  constructor(host: AppHost, workload: SimulatedWorkload, spec: ScenarioService) {
    super(host, workload, spec, 'service');
  }

  /** Whether it is never stopped. */
  get essential(): boolean {
    return this.spec.essential;
  }

  /** Whether it runs (it stops when stopped or when its process is killed). */
  get running(): boolean {
    return this.isRunning && this.workload.alive;
  }

  /**
   * Stops the service and frees its memory: the hook a service-shutdown action calls. Returns the
   * bytes freed (0 when it was not running); records the action.
   */
  stop(by?: string): number {
    if (!this.running) return 0;
    this.isRunning = false;
    return this.shed('service-shutdown', this.owner.pages, by);
  }

  /**
   * Starts a stopped service again: it takes its initial memory back (charged in the next slice)
   * and grows again. Returns false when it was running or its process is dead.
   */
  start(by?: string): boolean {
    if (this.isRunning || !this.workload.alive) return false;
    this.isRunning = true;
    this.carry = 0;
    this.host.allocate(this.workload, this.owner, Math.ceil(this.spec.size / PAGE_SIZE));
    this.host.recordAction({
      workload: this.workload,
      action: 'service-start',
      target: this.name,
      freedBytes: 0,
      by,
    });
    return true;
  }

  /** @internal The process (re)started: the service runs again. */
  reset(): void {
    this.isRunning = true;
    this.carry = 0;
  }
}

/**
 * A process of the simulation: its heap, leak, caches and services (anonymous memory) and its file
 * reading (page cache), in one memory group. The caches and services are the shedding hooks.
 */
export class SimulatedWorkload {
  /** The heap: the anonymous working set, growing at `rate`. */
  readonly heap: AnonOwner;
  /** Leaked memory: cold, growing at `leak`. */
  readonly leaked: AnonOwner;
  /** The allocation of the current spike phase. */
  readonly spike: AnonOwner;
  /** Its caches, in scenario order. */
  readonly caches: readonly SimulatedCache[];
  /** Its services, in scenario order. */
  readonly services: readonly SimulatedService[];
  /** Whether the process runs (false after an OOM kill, until it restarts). */
  alive = false;
  /** When it restarts after a kill (model milliseconds); Infinity for never. */
  restartAt = Infinity;
  /** The load factor: 1 on average, wandering by `jitter`. */
  load = 1;
  /** Index of the current phase, -1 before the first. */
  phase = -1;
  /** Fractional pages carried between ticks, per demand. */
  readonly carry = { heap: 0, leak: 0, reads: 0, data: 0, stream: 0 };

  constructor(
    host: AppHost,
    /** Its definition. */
    readonly spec: ScenarioWorkload,
    /** The group it runs in. */
    readonly group: MemoryGroup,
  ) {
    this.heap = new AnonOwner('heap', 1);
    this.leaked = new AnonOwner('leak', 0);
    this.spike = new AnonOwner('spike', 1);
    this.caches = spec.caches.map((cache) => new SimulatedCache(host, this, cache));
    this.services = spec.services.map((service) => new SimulatedService(host, this, service));
  }

  /** The workload's name. */
  get name(): string {
    return this.spec.name;
  }

  /** Every anonymous owner. */
  get owners(): AnonOwner[] {
    return [
      this.heap,
      this.leaked,
      this.spike,
      ...this.caches.map((c) => c.owner),
      ...this.services.map((s) => s.owner),
    ];
  }

  /** Anonymous pages held, resident or swapped (what the OOM killer weighs). */
  get anonPages(): number {
    let pages = 0;
    for (const owner of this.owners) pages += owner.pages;
    return pages;
  }

  /** A cache by name. */
  cache(name: string): SimulatedCache | undefined {
    return this.caches.find((cache) => cache.name === name);
  }

  /** A service by name. */
  service(name: string): SimulatedService | undefined {
    return this.services.find((service) => service.name === name);
  }
}
