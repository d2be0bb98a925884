import * as v8 from 'node:v8';
import * as vm from 'node:vm';

/**
 * What V8's `gc()` takes (its gc extension): with no argument a full, synchronous collection.
 * `flavor: 'last-resort'` makes it a memory-reducing collection, the only kind that hands the
 * pages V8 12 and later keep pooled back to the kernel. V8 11 reads an options object as a
 * young-generation collection: pass one only on V8 12 and later.
 */
export interface GcCallOptions {
  readonly type?: 'major' | 'minor';
  readonly execution?: 'sync' | 'async';
  readonly flavor?: 'regular' | 'last-resort';
}

/** V8's garbage collection, as `--expose-gc` exposes it. */
export type GcFunction = (options?: GcCallOptions) => void;

/** The outcome of {@link obtainGc}: the function, or why there is none. */
export type GcAvailability =
  | {
      readonly available: true;
      readonly gc: GcFunction;
      /** How it was obtained. */ readonly via: 'global' | 'flag';
    }
  | { readonly available: false; readonly reason: string };

let obtained: GcAvailability | undefined;

/**
 * V8's `gc()`, obtained once per process (a runtime facility plain JavaScript is not handed, like
 * glibc's malloc_trim next to it; the gc action and cache-purge's `measure` use it): the global one when the process runs with
 * `--expose-gc`, else by turning the flag on at run time (`v8.setFlagsFromString('--expose-gc')`)
 * and taking `gc` from a fresh context (`vm.runInNewContext('gc')`), which is how it works on
 * Node 20 without restarting the process. Never throws; `available: false` says why.
 */
export function obtainGc(): GcAvailability {
  if (obtained?.available) return obtained;
  const exposed = (globalThis as { gc?: unknown }).gc;
  if (typeof exposed === 'function') {
    obtained = { available: true, gc: exposed as GcFunction, via: 'global' };
    return obtained;
  }
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc: unknown = vm.runInNewContext('gc');
    obtained =
      typeof gc === 'function'
        ? { available: true, gc: gc as GcFunction, via: 'flag' }
        : { available: false, reason: 'V8 did not expose gc() in a new context after --expose-gc' };
  } catch (error) {
    obtained = {
      available: false,
      reason: `gc() could not be obtained at run time: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  return obtained;
}
