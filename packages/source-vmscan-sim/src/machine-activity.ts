import type { MemoryGroup } from './memory-group';
import { PAGE_SIZE } from './units';

/** Something that happened in the simulated machine, for the timeline, the JSON lines and the plot. */
export type MachineActivity =
  | {
      readonly type: 'action';
      /** Model milliseconds. */
      readonly time: number;
      readonly workload: string;
      /** `cache-purge`, `service-shutdown` or `service-start`. */
      readonly action: string;
      /** The cache or service. */
      readonly target: string;
      /** Bytes freed, from memory and swap. */
      readonly freedBytes: number;
      /** Who asked: a policy name, or what the caller passed. */
      readonly by?: string;
    }
  | {
      readonly type: 'oom';
      readonly time: number;
      /** The group whose limit could not be met (`mem_over_limit`). */
      readonly group: string;
      /** The workload killed, undefined when there was nothing to kill (the allocation failed). */
      readonly workload: string | undefined;
      readonly freedBytes: number;
    }
  | { readonly type: 'restart'; readonly time: number; readonly workload: string }
  | {
      readonly type: 'phase';
      readonly time: number;
      readonly workload: string;
      /** Index in the workload's phases. */
      readonly phase: number;
      readonly label?: string;
    };

/** Options of {@link SimulatedMachine}. */
export interface SimulatedMachineOptions {
  /** The seed of every random draw. */
  readonly seed: number;
  /** The engine path of the root group (the machine). Default `/sim`. */
  readonly root?: string;
  /** The engine window, for the model's record of synthetic priority windows. Default 512. */
  readonly window?: number;
}

/** One group's memory at an instant. */
export interface GroupSnapshot {
  /** The engine path, e.g. `/sim/app`. */
  readonly path: string;
  /** Bytes charged to the group and its descendants. */
  readonly usage: number;
  /** The group's limit in bytes; undefined for none. */
  readonly limit: number | undefined;
  /** Resident anonymous bytes in the subtree. */
  readonly anon: number;
  /** Page cache bytes in the subtree. */
  readonly file: number;
  /** Swapped-out bytes of the subtree. */
  readonly swap: number;
}

/** A group's memory now, in bytes: its subtree's pages by kind. */
export function groupSnapshot(group: MemoryGroup): GroupSnapshot {
  let anon = 0;
  let file = 0;
  let swap = 0;
  for (const member of group.subtree) {
    anon += member.anon.size;
    file += member.file.size;
    swap += member.swappedHot + member.swappedCold;
  }
  return {
    path: group.path,
    usage: group.usage * PAGE_SIZE,
    limit: Number.isFinite(group.limit) ? group.limit * PAGE_SIZE : undefined,
    anon: anon * PAGE_SIZE,
    file: file * PAGE_SIZE,
    swap: swap * PAGE_SIZE,
  };
}
