import { VMPRESSURE_WINDOW, type PressureNode } from '@memshed/core';
import type { Observable } from 'rxjs';
import { Subject } from '@memshed/core/rx';
import { buildGroupTree, type MemoryGroup } from './memory-group';
import { Prng } from './prng';
import type { Scenario } from './scenario';
import { AnonOwner, SimulatedWorkload, type AppAction, type AppHost } from './simulated-app';
import { bytesToPages, PAGE_SIZE } from './units';
import { MAX_RECLAIM_RETRIES, Vmscan, type SwapSpace } from './vmscan';
import {
  groupSnapshot,
  type GroupSnapshot,
  type MachineActivity,
  type SimulatedMachineOptions,
} from './machine-activity';
import {
  dataSetPages,
  phaseSettings,
  phaseStartTimes,
  placeCharged,
  planStep,
  wander,
  type Demand,
  type DemandKind,
  type PhaseSettings,
  type QueueDemand,
} from './workload-demand';

export type { GroupSnapshot, MachineActivity, SimulatedMachineOptions } from './machine-activity';

// Math's functions held in module scope: a global lookup on every call is slow inside vm contexts (jest).
const { floor, max, min, round } = Math;

/**
 * The simulated machine: memory groups with limits and LRU lists, workloads that allocate and read
 * files, the reclaim path that runs when a charge hits a limit, and the OOM killer when reclaim
 * fails. Every page count is an integer; every random draw comes from one seeded generator, in a
 * fixed order, so that a scenario and a seed always give the same run.
 *
 * The machine is driven from outside: {@link start} once, then {@link advanceTo} with growing times,
 * each followed by {@link drain} (or both at once with {@link step}). `advanceTo` decides what every
 * workload wants during the step; `drain` charges it, reclaiming as limits require, and can stop
 * after a number of reclaim runs so that the engine's work (and whoever listens) runs in between,
 * as the kernel's vmpressure work runs while reclaim goes on. Reclaim feeds the groups' engine
 * nodes, once {@link attach}ed.
 */
export class SimulatedMachine implements AppHost {
  /** The root group: the machine, limited by its memory. */
  readonly root: MemoryGroup;
  /** Every group, parents first. */
  readonly groups: readonly MemoryGroup[];
  /** The workloads, in scenario order. */
  readonly workloads: readonly SimulatedWorkload[];
  /** The swap space. */
  readonly swap: SwapSpace;
  /** The seeded generator. */
  readonly random: Prng;
  /** The reclaim path. */
  readonly vmscan: Vmscan;
  /** Shedding actions, OOM kills, restarts and phase changes, as they happen. */
  readonly activity$: Observable<MachineActivity>;
  /** Model time in milliseconds. */
  time = 0;

  private readonly activity = new Subject<MachineActivity>();
  private readonly settings = new Map<SimulatedWorkload, PhaseSettings[]>();
  private readonly phaseStarts = new Map<SimulatedWorkload, number[]>();
  private readonly wsEverLoaded = new Map<SimulatedWorkload, number>();
  // A pool: demand objects are reused from step to step (tens of thousands of steps per run).
  private readonly demands: Demand[] = [];
  private queued = 0;
  private next = 0;
  private budget = Infinity;
  private started = false;
  private lastFailedOomAt = -1;
  private readonly enqueue: QueueDemand = (workload, kind, pages, owner) =>
    this.queue(workload, kind, pages, owner);

  constructor(
    /** The scenario it runs. */
    readonly scenario: Scenario,
    options: SimulatedMachineOptions,
  ) {
    this.random = new Prng(options.seed);
    this.swap = { total: floor(scenario.machine.swap / PAGE_SIZE), used: 0 };
    this.vmscan = new Vmscan(
      this.random,
      this.swap,
      scenario.machine.swappiness,
      options.window ?? VMPRESSURE_WINDOW,
      scenario.machine.ioPerScan,
    );
    this.groups = buildGroupTree(options.root ?? '/sim', scenario.machine.memory, scenario.groups);
    this.root = this.groups[0];
    this.workloads = scenario.workloads.map((spec) => {
      const group = this.group(spec.group);
      if (!group) throw new Error(`workload '${spec.name}': no group '${spec.group}'`);
      group.hotReference = spec.hot;
      const workload = new SimulatedWorkload(this, spec, group);
      this.settings.set(workload, phaseSettings(spec));
      this.phaseStarts.set(workload, phaseStartTimes(spec));
      this.wsEverLoaded.set(workload, 0);
      return workload;
    });
    this.activity$ = this.activity.asObservable();
  }

  /** A group by engine path (`/sim/app`) or by path below the root (`app`, `app/workers`); `/` or `''` is the root. */
  group(path: string): MemoryGroup | undefined {
    const relative = path.startsWith(this.root.path + '/') ? path.slice(this.root.path.length + 1) : path;
    if (path === this.root.path || relative === '' || relative === '/') return this.root;
    const absolute = `${this.root.path === '/' ? '' : this.root.path}/${relative.replace(/^\/+|\/+$/g, '')}`;
    return this.groups.find((group) => group.path === absolute);
  }

  /** A workload by name. */
  workload(name: string): SimulatedWorkload | undefined {
    return this.workloads.find((workload) => workload.name === name);
  }

  /** Connects every group to its engine node: reclaim then feeds the engine. */
  attach(nodeFor: (path: string) => PressureNode): void {
    for (const group of this.groups) group.node = nodeFor(group.path);
  }

  /** Starts every workload at `time`: queues its initial memory (drain it next). Once. */
  start(time = 0): void {
    if (this.started) return;
    this.started = true;
    this.time = time;
    for (const workload of this.workloads) {
      this.startWorkload(workload);
      this.enterPhases(workload);
    }
  }

  /**
   * Moves the model to `time` and queues what every workload wants over the step (restarts, phase
   * changes, growth, file reads). Anything still queued from the previous step is charged first.
   * Earlier times are ignored.
   */
  advanceTo(time: number): void {
    if (!this.started) this.start(this.time);
    this.drain();
    const dt = (time - this.time) / 1000;
    if (!(dt > 0)) return;
    this.time = time;
    for (const workload of this.workloads) {
      if (!workload.alive) {
        if (workload.restartAt > time) continue;
        this.activity.next({ type: 'restart', time, workload: workload.name });
        this.startWorkload(workload);
      }
      this.enterPhases(workload);
      wander(workload, dt, this.random);
      const settings = this.currentSettings(workload);
      planStep(workload, dt, settings, dataSetPages(workload.spec, settings), this.enqueue);
    }
  }

  /**
   * Charges what is queued, in order, reclaiming where limits require. Stops once `maxReclaimRuns`
   * reclaim runs have been made (so that the engine's work can run) and returns false if anything
   * is left; true when the queue is empty.
   */
  drain(maxReclaimRuns = Infinity): boolean {
    this.budget = maxReclaimRuns;
    while (this.next < this.queued) {
      const demand = this.demands[this.next];
      this.satisfy(demand);
      if (demand.pages > 0 && demand.workload.alive && this.budget <= 0) return false;
      this.next++;
    }
    this.queued = 0;
    this.next = 0;
    return true;
  }

  /** {@link advanceTo} then {@link drain}: one whole step. */
  step(time: number): void {
    this.advanceTo(time);
    this.drain();
  }

  /** Every group's memory now. */
  snapshot(): GroupSnapshot[] {
    return this.groups.map(groupSnapshot);
  }

  /** @internal Frees pages of an owner (the hooks and the OOM killer call it). */
  free(workload: SimulatedWorkload, owner: AnonOwner, pages: number): number {
    const group = workload.group;
    const count = max(0, min(round(pages), owner.pages));
    if (count === 0) return 0;
    let hot = min(owner.hot, round((count * owner.hot) / owner.pages));
    let cold = count - hot;
    if (cold > owner.cold) {
      hot += cold - owner.cold;
      cold = owner.cold;
    }
    owner.hot -= hot;
    owner.cold -= cold;
    this.freeAnon(group, 'hot', hot);
    this.freeAnon(group, 'cold', cold);
    return count * PAGE_SIZE;
  }

  /** @internal Queues new memory for an owner (a service that starts again). */
  allocate(workload: SimulatedWorkload, owner: AnonOwner, pages: number): void {
    this.queue(workload, 'anon', pages, owner);
  }

  /** @internal Records a shedding action. */
  recordAction({ workload, action, target, freedBytes, by }: AppAction): void {
    this.activity.next({
      type: 'action',
      time: this.time,
      workload: workload.name,
      action,
      target,
      freedBytes,
      ...(by === undefined ? {} : { by }),
    });
  }

  /** Stops emitting activity. */
  dispose(): void {
    this.activity.complete();
  }

  private freeAnon(group: MemoryGroup, temperature: 'hot' | 'cold', pages: number): void {
    if (pages <= 0) return;
    const swappedKey = temperature === 'hot' ? 'swappedHot' : 'swappedCold';
    const swapped = group[swappedKey];
    const resident = group.anon[temperature];
    let fromSwap = swapped + resident > 0 ? round((pages * swapped) / (swapped + resident)) : 0;
    fromSwap = min(swapped, max(fromSwap, pages - resident));
    group[swappedKey] -= fromSwap;
    this.swap.used -= fromSwap;
    group.uncharge(group.anon.remove(temperature, pages - fromSwap));
  }

  private queue(workload: SimulatedWorkload, kind: DemandKind, pages: number, owner?: AnonOwner): void {
    if (pages <= 0) return;
    const demand = this.demands[this.queued];
    if (demand) {
      demand.workload = workload;
      demand.kind = kind;
      demand.owner = owner;
      demand.pages = pages;
      demand.retries = MAX_RECLAIM_RETRIES;
    } else {
      this.demands.push({ workload, kind, owner, pages, retries: MAX_RECLAIM_RETRIES });
    }
    this.queued++;
  }

  private startWorkload(workload: SimulatedWorkload): void {
    workload.alive = true;
    workload.restartAt = Infinity;
    workload.load = 1;
    for (const service of workload.services) service.reset();
    const spec = workload.spec;
    this.queue(workload, 'anon', bytesToPages(spec.heap), workload.heap);
    for (const cache of workload.caches) {
      const pages = min(bytesToPages(cache.spec.size), bytesToPages(cache.spec.max));
      this.queue(workload, 'anon', pages, cache.owner);
    }
    for (const service of workload.services) {
      this.queue(workload, 'anon', bytesToPages(service.spec.size), service.owner);
    }
  }

  /** Enters every phase whose start has come, ending the previous one (a spike is freed at its phase's end). */
  private enterPhases(workload: SimulatedWorkload): void {
    const starts = this.phaseStarts.get(workload)!;
    const phases = workload.spec.phases;
    while (workload.phase + 1 < phases.length && starts[workload.phase + 1] <= this.time) {
      this.free(workload, workload.spike, workload.spike.pages);
      workload.phase++;
      const phase = phases[workload.phase];
      this.activity.next({
        type: 'phase',
        time: this.time,
        workload: workload.name,
        phase: workload.phase,
        ...(phase.label === undefined ? {} : { label: phase.label }),
      });
      if (phase.spike && workload.alive) {
        this.queue(workload, 'anon', bytesToPages(phase.spike), workload.spike);
      }
    }
    // The last phase's spike ends with its phase, even though its settings stay.
    const last = phases.length - 1;
    if (workload.phase === last && last >= 0 && starts[last] + phases[last].for <= this.time) {
      this.free(workload, workload.spike, workload.spike.pages);
    }
  }

  private currentSettings(workload: SimulatedWorkload): PhaseSettings {
    return this.settings.get(workload)![workload.phase + 1];
  }

  /** Charges as much of one demand as the budget allows and puts the pages where they belong. */
  private satisfy(demand: Demand): void {
    const workload = demand.workload;
    if (!workload.alive) return;
    const group = workload.group;
    // Caps that depend on the state now: reclaim may have changed it since the step was planned.
    let wanted = demand.pages;
    if (demand.kind === 'swap-in') wanted = min(wanted, group.swappedHot);
    if (demand.kind === 'working-set') {
      wanted = min(wanted, bytesToPages(this.currentSettings(workload).workingSet) - group.file.hot);
    }
    if (demand.kind === 'data') {
      const settings = this.currentSettings(workload);
      const coldData = dataSetPages(workload.spec, settings) - bytesToPages(settings.workingSet);
      wanted = min(wanted, coldData - group.fileColdData);
    }
    if (wanted <= 0) {
      demand.pages = 0;
      return;
    }
    const pages = this.charge(demand, wanted);
    demand.pages = wanted - pages;
  }

  /** Puts pages just charged for `demand` on the lists (the kernel adds each folio to the LRU once charged). */
  private place(demand: Demand, pages: number): void {
    if (pages <= 0) return;
    placeCharged(
      demand,
      pages,
      this.swap,
      this.wsEverLoaded,
      this.currentSettings(demand.workload).workingSet,
    );
  }

  /**
   * `try_charge`: charges up to `pages` to the demand's group, one reclaim run (nr_to_reclaim 32)
   * each time a limit is hit, as page faults do. A run that frees something is retried at once;
   * after MAX_RECLAIM_RETRIES runs that free nothing, the group over its limit goes OOM. Stops early
   * when the slice's reclaim budget is spent. Charged pages join the lists before each reclaim run.
   * Returns the pages charged; if the workload was killed meanwhile, what was not on the lists yet
   * is uncharged and it returns what was.
   */
  private charge(demand: Demand, pages: number): number {
    const workload = demand.workload;
    const group = workload.group;
    let charged = 0;
    let placed = 0;
    while (charged < pages && workload.alive) {
      const margin = group.margin();
      if (margin > 0) {
        const count = min(pages - charged, margin);
        group.charge(count);
        charged += count;
        continue;
      }
      // What is charged so far is on the lists before reclaim looks at them: a fault charges and
      // adds its folio, then the next one charges (and reclaims) in turn.
      this.place(demand, charged - placed);
      placed = charged;
      if (this.budget <= 0) break;
      this.budget--;
      const over = group.overLimit(1)!;
      if (this.vmscan.tryToFreeMemCgroupPages(over, 1) > 0) {
        demand.retries = MAX_RECLAIM_RETRIES;
        continue;
      }
      if (demand.retries-- > 0) continue;
      demand.retries = MAX_RECLAIM_RETRIES;
      if (!this.oomKill(over)) {
        // Nothing to kill: the allocation fails.
        this.place(demand, charged - placed);
        demand.pages = 0;
        return charged;
      }
    }
    if (!workload.alive) {
      // The faulting task died: its pending charge goes with it (what was placed went with the kill).
      group.uncharge(charged - placed);
      return placed;
    }
    this.place(demand, charged - placed);
    return charged;
  }

  /** `mem_cgroup_out_of_memory`: kills the workload of `over`'s subtree holding the most anonymous memory. */
  private oomKill(over: MemoryGroup): SimulatedWorkload | undefined {
    let victim: SimulatedWorkload | undefined;
    for (const workload of this.workloads) {
      if (!workload.alive || !over.subtree.includes(workload.group)) continue;
      if (!victim || workload.anonPages > victim.anonPages) victim = workload;
    }
    over.stats.oomKills++;
    if (!victim) {
      if (this.lastFailedOomAt !== this.time) {
        this.lastFailedOomAt = this.time;
        this.activity.next({
          type: 'oom',
          time: this.time,
          group: over.path,
          workload: undefined,
          freedBytes: 0,
        });
      }
      return undefined;
    }
    let freed = 0;
    for (const owner of victim.owners) freed += this.free(victim, owner, owner.pages);
    victim.alive = false;
    victim.restartAt = this.time + victim.spec.restart;
    this.activity.next({
      type: 'oom',
      time: this.time,
      group: over.path,
      workload: victim.name,
      freedBytes: freed,
    });
    return victim;
  }
}
