import type { Prng } from './prng';
import type { Scenario } from './scenario';
import type { AnonOwner, SimulatedWorkload } from './simulated-app';
import { bytesToPages, PAGE_SIZE } from './units';
import type { SwapSpace } from './vmscan';

// What the workloads want, step by step: their phases' settings, the load's wander, and the
// demands of one step. The machine charges the demands (simulated-machine.ts).

// Math's functions held in module scope: a global lookup on every call is slow inside vm contexts (jest).
const { floor, max, min, sqrt } = Math;

/** What a workload does in a phase: its rates, read throughput and working set. */
export interface PhaseSettings {
  rate: number;
  leak: number;
  reads: number;
  stream: number;
  workingSet: number;
}

/** Time constant of the load's wander back to 1, in seconds. */
const LOAD_TIME_CONSTANT = 10;

/** What a demand charges and where its pages go once charged. */
export type DemandKind = 'anon' | 'swap-in' | 'working-set' | 'data' | 'stream';

/** Pages a workload wants in one step: charged in order, possibly across several slices. */
export interface Demand {
  workload: SimulatedWorkload;
  kind: DemandKind;
  /** For `anon`: who gets the pages. */
  owner: AnonOwner | undefined;
  pages: number;
  /** Reclaim runs left that may free nothing before OOM (kept across slices). */
  retries: number;
}

/** Queues `pages` of a demand of `workload` (for `anon`, owned by `owner`). */
export type QueueDemand = (
  workload: SimulatedWorkload,
  kind: DemandKind,
  pages: number,
  owner?: AnonOwner,
) => void;

/** The load wanders around 1 (Ornstein-Uhlenbeck): different seeds, different runs, same averages. */
export function wander(workload: SimulatedWorkload, dt: number, random: Prng): void {
  const jitter = workload.spec.jitter;
  if (jitter === 0 || !workload.alive) return;
  const theta = 1 / LOAD_TIME_CONSTANT;
  const sigma = jitter * sqrt(2 * theta);
  const next = workload.load + theta * (1 - workload.load) * dt + sigma * sqrt(dt) * random.normal();
  workload.load = min(2, max(0.1, next));
}

/**
 * What a workload wants over `dt` seconds, in this order: swap-ins of its working set (touched
 * again at once), heap growth, cache fills, service growth, the leak; then file reading: working-set
 * pages that reclaim took are read back first (refaults) within the read throughput, the rest of
 * the throughput reads the data set (missing where it is not cached), and streamed data is always
 * new page cache.
 */
export function planStep(
  workload: SimulatedWorkload,
  dt: number,
  settings: PhaseSettings,
  dataSet: number,
  queue: QueueDemand,
): void {
  if (!workload.alive) return;
  const group = workload.group;
  const scale = (dt * workload.load) / PAGE_SIZE;
  const carry = workload.carry;
  queue(workload, 'swap-in', group.swappedHot);
  queue(workload, 'anon', take(carry, 'heap', settings.rate * scale), workload.heap);
  for (const cache of workload.caches) {
    const room = bytesToPages(cache.spec.max) - cache.owner.pages;
    if (room <= 0) continue;
    cache.carry += cache.spec.fill * scale;
    const pages = min(room, floor(cache.carry));
    cache.carry -= pages;
    queue(workload, 'anon', pages, cache.owner);
  }
  for (const service of workload.services) {
    if (!service.running) continue;
    const most = service.spec.max === undefined ? Infinity : bytesToPages(service.spec.max);
    const room = most - service.owner.pages;
    if (room <= 0) continue;
    service.carry += service.spec.growth * scale;
    const pages = min(room, floor(service.carry));
    service.carry -= pages;
    queue(workload, 'anon', pages, service.owner);
  }
  queue(workload, 'anon', take(carry, 'leak', settings.leak * scale), workload.leaked);

  // The readahead window in flight is readahead's own size (mm/readahead.c grows it to its maximum
  // on a sequential reader), not the read rate's: a faster reader does not get more in flight, it
  // catches up with its reads sooner.
  group.readaheadPages = bytesToPages(workload.spec.files.readahead);
  const workingSet = bytesToPages(settings.workingSet);
  // A working set that shrank leaves pages that are now just data.
  const excess = group.file.hot - workingSet;
  if (excess > 0) {
    const fromInactive = min(excess, group.file.inactive.hot);
    group.file.inactive.hot -= fromInactive;
    group.file.inactive.cold += fromInactive;
    group.file.active.hot -= excess - fromInactive;
    group.file.active.cold += excess - fromInactive;
    group.fileColdData += excess;
  }
  const budget = take(carry, 'reads', settings.reads * scale);
  const faults = min(max(0, workingSet - group.file.hot), budget);
  queue(workload, 'working-set', faults);
  const coldData = dataSet - workingSet;
  if (coldData > 0) {
    const cachedShare = min(1, group.fileColdData / coldData);
    queue(workload, 'data', take(carry, 'data', (budget - faults) * (1 - cachedShare)));
  }
  queue(workload, 'stream', take(carry, 'stream', settings.stream * scale));
}

/** Whole pages of `amount`, carrying the fraction under `key` to the next step. */
export function take(carry: Record<string, number>, key: string, amount: number): number {
  const total = carry[key] + amount;
  const pages = floor(total);
  carry[key] = total - pages;
  return pages;
}

/** The settings in force before each phase (index 0) and in each phase (index i + 1). */
export function phaseSettings(spec: Scenario['workloads'][number]): PhaseSettings[] {
  let current: PhaseSettings = {
    rate: spec.rate,
    leak: spec.leak,
    reads: spec.files.reads,
    stream: spec.files.stream,
    workingSet: spec.files.workingSet,
  };
  const settings = [current];
  for (const phase of spec.phases) {
    current = {
      rate: phase.rate ?? current.rate,
      leak: phase.leak ?? current.leak,
      reads: phase.reads ?? current.reads,
      stream: phase.stream ?? current.stream,
      workingSet: phase.workingSet ?? current.workingSet,
    };
    settings.push(current);
  }
  return settings;
}

/**
 * Puts `pages` just charged for `demand` where they belong: new anonymous pages with their owner,
 * swapped-in pages back on the active list, file pages on the inactive list; working-set reads
 * past the first load of each page count as refaults.
 */
export function placeCharged(
  demand: Demand,
  pages: number,
  swap: SwapSpace,
  wsEverLoaded: Map<SimulatedWorkload, number>,
  workingSet: number,
): void {
  const workload = demand.workload;
  const group = workload.group;
  switch (demand.kind) {
    case 'anon': {
      const owner = demand.owner!;
      const { hot, cold } = owner.split(pages);
      owner.hot += hot;
      owner.cold += cold;
      group.anon.inactive.hot += hot;
      group.anon.inactive.cold += cold;
      break;
    }
    case 'swap-in':
      group.swappedHot -= pages;
      swap.used -= pages;
      group.anon.active.hot += pages;
      group.stats.refaults += pages;
      break;
    case 'working-set': {
      const loaded = wsEverLoaded.get(workload)!;
      const first = min(pages, max(0, bytesToPages(workingSet) - loaded));
      wsEverLoaded.set(workload, loaded + first);
      group.stats.refaults += pages - first;
      group.file.inactive.hot += pages;
      break;
    }
    case 'data':
      group.fileColdData += pages;
      group.addReadPages(pages);
      break;
    case 'stream':
      group.addReadPages(pages);
      break;
  }
}

/** When each phase starts, in model milliseconds from the workload's start. */
export function phaseStartTimes(spec: Scenario['workloads'][number]): number[] {
  let start = 0;
  return spec.phases.map((phase) => {
    const at = start;
    start += phase.for;
    return at;
  });
}

/** The pages of the data set a workload reads: at least its working set. */
export function dataSetPages(spec: Scenario['workloads'][number], settings: PhaseSettings): number {
  return max(bytesToPages(settings.workingSet), bytesToPages(spec.files.size ?? settings.workingSet));
}
