import { type PressureState } from '@memshed/core';
import { SHED_PRIORITIES, shedPriorityRank, type ShedPriority } from '@memshed/shed-priority';
import { z } from '@memshed/options';
import { durationSchema, sizeSchema } from './scenario';
import type { SimulatedService } from './simulated-app';
import type { SimulatedMachine } from './simulated-machine';

// The rehearsal actions take the options of the real cache-purge and service-shutdown plugins, so
// that a policy's text can be rehearsed as it is. Options about waiting (flush and stop timeouts,
// measuring with GCs) are accepted and have nothing to do in virtual time.

const priority = z.enum(SHED_PRIORITIES as [ShedPriority, ...ShedPriority[]]);
const fraction = z.number().min(0).max(1);
const anything = z.unknown().optional();

function purgeRule(defaults: { fraction: number; upTo: ShedPriority }) {
  return z
    .strictObject({ fraction: fraction.default(defaults.fraction), upTo: priority.default(defaults.upTo) })
    .prefault({});
}

/** The cache-purge options: per level, which caches (by priority, tags) and how much of them. */
const cachePurgeOptions = z.strictObject({
  /** Overrides every level's fraction. */
  fraction: fraction.optional(),
  /** Overrides every level's priority limit. */
  upTo: priority.optional(),
  /** Only caches with one of these tags (empty: every cache). */
  tags: z.array(z.string()).default([]),
  /** What to purge at each level: low nothing, medium half of `low` and below, critical all but `keep`. */
  levels: z
    .strictObject({
      low: purgeRule({ fraction: 0, upTo: 'background' }),
      medium: purgeRule({ fraction: 0.5, upTo: 'low' }),
      critical: purgeRule({ fraction: 1, upTo: 'high' }),
    })
    .prefault({}),
  /** Stop once this many bytes were dropped. */
  enough: sizeSchema.optional(),
  flushTimeout: anything,
  measure: anything,
});

/** The service-shutdown options: per level, the priority below which running services stop. */
const serviceShutdownOptions = z.strictObject({
  /** Overrides every level's threshold. */
  below: priority.optional(),
  /** Stop below this priority at each level: low `low`, medium `normal`, critical `high`. */
  levels: z
    .strictObject({
      low: priority.default('low'),
      medium: priority.default('normal'),
      critical: priority.default('high'),
    })
    .prefault({}),
  /** Start the stopped services again once the state has been `normal` for `after` (ms). */
  restart: z.strictObject({ after: durationSchema.default(30_000), timeout: anything }).optional(),
  timeout: anything,
  forceTimeout: anything,
});

/** The options schemas of the actions a scenario's policies may use, by action id. */
export const REHEARSAL_ACTION_SCHEMAS = {
  'cache-purge': cachePurgeOptions,
  'service-shutdown': serviceShutdownOptions,
  gc: z.strictObject({ measure: anything, wait: anything }),
} as const;

/** The id of an action the simulator can rehearse. */
export type RehearsalActionId = keyof typeof REHEARSAL_ACTION_SCHEMAS;

/** The action ids the simulator can rehearse: the same ids, and options, as memshed's action plugins. */
export const REHEARSAL_ACTIONS = Object.keys(REHEARSAL_ACTION_SCHEMAS) as RehearsalActionId[];

/** What one rehearsed action did. */
export interface RehearsalOutcome {
  /** Bytes freed. */
  readonly freedBytes: number;
  /** Services stopped (for a later restart). */
  readonly stopped: readonly SimulatedService[];
  /** The `restart.after` of a service-shutdown, when it asks for restarts. */
  readonly restartAfter?: number;
}

/**
 * Runs one action against the simulated application's hooks at monitor state `level`, attributed
 * to `policy`, with the real plugin's semantics: cache-purge drops the level's fraction of every
 * cache of the level's priority and below (lowest priority first, never `keep` ones, up to
 * `enough`); service-shutdown stops the running, non-essential services strictly below the level's
 * threshold (lowest priority first, largest first). `gc` frees nothing here: purged memory leaves
 * the model at once, there is nothing left for a collector to find.
 */
export function runRehearsalAction(
  machine: SimulatedMachine,
  use: RehearsalActionId,
  options: unknown,
  level: PressureState,
  policy: string,
): RehearsalOutcome {
  const at = level === 'normal' ? 'low' : level;
  switch (use) {
    case 'cache-purge': {
      const parsed = cachePurgeOptions.parse(options ?? {});
      const fractionNow = parsed.fraction ?? parsed.levels[at].fraction;
      const limit = shedPriorityRank(parsed.upTo ?? parsed.levels[at].upTo);
      const caches = machine.workloads
        .flatMap((workload) => workload.caches)
        .filter(
          (cache) =>
            !cache.keep &&
            cache.bytes > 0 &&
            shedPriorityRank(cache.priority) <= limit &&
            (parsed.tags.length === 0 || cache.tags.some((tag) => parsed.tags.includes(tag))),
        )
        .sort((a, b) => shedPriorityRank(a.priority) - shedPriorityRank(b.priority));
      let freedBytes = 0;
      if (fractionNow > 0) {
        for (const cache of caches) {
          if (parsed.enough !== undefined && freedBytes >= parsed.enough) break;
          freedBytes += cache.purge(fractionNow, policy);
        }
      }
      return { freedBytes, stopped: [] };
    }
    case 'service-shutdown': {
      const parsed = serviceShutdownOptions.parse(options ?? {});
      const limit = shedPriorityRank(parsed.below ?? parsed.levels[at]);
      const services = machine.workloads
        .flatMap((workload) => workload.services)
        .filter(
          (service) => service.running && !service.essential && shedPriorityRank(service.priority) < limit,
        )
        .sort((a, b) => shedPriorityRank(a.priority) - shedPriorityRank(b.priority) || b.bytes - a.bytes);
      let freedBytes = 0;
      for (const service of services) freedBytes += service.stop(policy);
      return {
        freedBytes,
        stopped: services,
        ...(parsed.restart ? { restartAfter: parsed.restart.after } : {}),
      };
    }
    case 'gc':
      return { freedBytes: 0, stopped: [] };
  }
}
