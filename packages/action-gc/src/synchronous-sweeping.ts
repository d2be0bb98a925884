import * as v8 from 'node:v8';

/**
 * The V8 flags that make a full collection finish its own sweeping on the JavaScript thread: the
 * sweeping of heap pages (after which V8 frees the empty ones itself instead of queueing them for
 * its background unmapper) and of array buffers (after which a dead Buffer's backing store is
 * back with glibc). Both are V8 flags in Node 18 to 24.
 */
const SWEEPING_FLAGS = ['concurrent-sweeping', 'concurrent-array-buffer-sweeping'] as const;

/**
 * Flags that, given to the process, mean someone already decided how V8 sweeps (or that flags
 * may not change after start-up): the action then leaves sweeping alone rather than turn on
 * afterwards what the process turned off.
 */
const OWNED_ELSEWHERE = [
  ...SWEEPING_FLAGS,
  'single-threaded-gc',
  'single-threaded',
  'predictable',
  'freeze-flags-after-init',
];

/** Whether the gc action can make its collections sweep synchronously here, and how. */
export type SweepingControl =
  | {
      readonly available: true;
      /** Runs `work` (the collections) with synchronous sweeping, then restores V8's defaults. */
      run<T>(work: () => T): T;
    }
  | { readonly available: false; readonly reason: string };

/** What {@link synchronousSweeping} looks at; tests give their own. */
export interface SweepingHost {
  /** `process.execArgv`. */
  readonly execArgv: readonly string[];
  /** `process.env.NODE_OPTIONS`. */
  readonly nodeOptions: string | undefined;
  /** `process.versions`. */
  readonly versions: Readonly<Record<string, string | undefined>>;
  /** `v8.setFlagsFromString`. */
  setFlags(flags: string): void;
}

const realHost: SweepingHost = {
  execArgv: process.execArgv,
  nodeOptions: process.env.NODE_OPTIONS,
  versions: process.versions,
  setFlags: (flags) => v8.setFlagsFromString(flags),
};

/**
 * Synchronous sweeping for the gc action's collections.
 *
 * Why: a full collection marks on the JavaScript thread but sweeps on background threads, and V8
 * hands the pages it emptied to a background unmapper: the first `gc()` after a purge returns
 * with the memory still charged to the cgroup, and the background threads then return it later,
 * competing with the JavaScript thread (each `munmap` is a TLB shootdown to the CPU they run on).
 * With both flags off for the duration of the collections, the first collection sweeps and unmaps
 * itself, the usage falls sooner, and one collection frees Buffers' backing stores instead of two
 * (the measurements are in docs/actions/gc.md).
 *
 * V8 reads these flags when a collection starts its sweeping, and joins any sweeping job already
 * running whatever their value, so flipping them between collections is safe in Node's V8; Node
 * leaves flags unfrozen after start-up (`--no-freeze-flags-after-init` is its default). Not done,
 * with a reason: in Electron (which may freeze V8 flags), outside Node, or when the process was
 * started with a flag that decides sweeping itself.
 */
export function synchronousSweeping(host: SweepingHost = realHost): SweepingControl {
  if (host.versions.electron !== undefined)
    return { available: false, reason: 'Electron may freeze V8 flags after start-up' };
  if (host.versions.node === undefined || host.versions.v8 === undefined)
    return { available: false, reason: 'not Node.js with V8' };
  const given = [...host.execArgv, ...(host.nodeOptions?.split(/\s+/) ?? [])]
    .map((arg) => arg.replace(/^--/, '').split('=')[0].replace(/_/g, '-'))
    .find((name) => OWNED_ELSEWHERE.some((flag) => name === flag || name === `no-${flag}`));
  if (given !== undefined)
    return { available: false, reason: `the process was started with --${given}, which decides sweeping` };
  return {
    available: true,
    run<T>(work: () => T): T {
      for (const flag of SWEEPING_FLAGS) host.setFlags(`--no-${flag}`);
      try {
        return work();
      } finally {
        for (const flag of SWEEPING_FLAGS) host.setFlags(`--${flag}`);
      }
    },
  };
}
