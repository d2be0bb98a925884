import { SHED_PRIORITIES, type ShedPriority } from '@memshed/shed-priority';
import { durationOption as duration, z } from '@memshed/options';

const priority = z.enum(SHED_PRIORITIES as [ShedPriority, ...ShedPriority[]]);

const positiveDuration = duration.refine((ms) => ms > 0, { message: 'must be longer than 0ms' });

/**
 * Options of the service-shutdown action (`with:` in config).
 *
 * At each level it stops the running, non-essential services whose priority is strictly below
 * the level's threshold; `below` overrides every level. Defaults follow the kernel's advice for
 * the low level ("prematurely shutdown unimportant services") and go further as pressure rises:
 * low stops `background` services, medium also `low` ones, critical also `normal` ones; `high`
 * and essential services are never stopped.
 */
export const serviceShutdownOptionsSchema = z.strictObject({
  /** Stop services below this priority at every level. */
  below: priority.optional(),
  /** The threshold per level. */
  levels: z
    .strictObject({
      low: priority.default('low'),
      medium: priority.default('normal'),
      critical: priority.default('high'),
    })
    .prefault({}),
  /** How long a graceful stop may take before the force hook (or a report). Default 10s. */
  timeout: positiveDuration.default(10_000),
  /** How long the force hook may take. Default 2s. */
  forceTimeout: positiveDuration.default(2000),
  /**
   * Start the services this action stopped again once the monitor has been `normal` for `after`
   * (hysteresis: any pressure before then restarts the wait). Off unless given; `after` defaults
   * to 30s.
   */
  restart: z
    .strictObject({
      after: duration.default(30_000),
      /** How long each start may take. Default 10s. */
      timeout: positiveDuration.default(10_000),
    })
    .optional(),
});

/** Validated options of the service-shutdown action, defaults applied. */
export type ServiceShutdownOptions = z.output<typeof serviceShutdownOptionsSchema>;
/** Options of the service-shutdown action as written in config. */
export type ServiceShutdownOptionsInput = z.input<typeof serviceShutdownOptionsSchema>;
