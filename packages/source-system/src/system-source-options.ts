import { timeToLimitOption } from '@memshed/growth-trend';
import { durationOption as duration, orFalse, z } from '@memshed/options';
import { parseThreshold, thresholdOption as threshold } from './threshold';

/** Headroom against the container's own limit. */
const containerSchema = z.strictObject({
  /** `self` (this process's cgroup) or a cgroup path inside the hierarchy such as `/app/workers`. */
  cgroup: z.string().default('self'),
  /** Optional: signal `low` from here. */
  low: threshold.optional(),
  /** Signal `medium` from here. Default 75% of the limit (Chromium's moderate). */
  medium: threshold.default(parseThreshold('75%')),
  /** Signal `critical` from here. Default 85% of the limit (Chromium's critical). */
  critical: threshold.default(parseThreshold('85%')),
  /**
   * What is compared with the thresholds: `working-set` (usage less inactive file pages, which the
   * kernel reclaims first: page cache alone does not alarm) or raw `usage`.
   */
  measure: z.enum(['working-set', 'usage']).default('working-set'),
  /**
   * `auto`: cgroup v1 usage thresholds through eventfds (no polling while usage stays below them)
   * where the native addon is available, polling otherwise; `poll`: always poll.
   */
  notify: z.enum(['auto', 'poll']).default('auto'),
  /** The poll period (cgroup v2, fallbacks, and while usage is above the lowest threshold). Default 250ms. */
  interval: duration.default(250),
  /**
   * Time to limit: how fast usage (the `measure`) grows and when, at that rate, it reaches the
   * limit; `medium` when less than 3s away, `critical` under 1s by default, whichever of this and the
   * thresholds is higher is signalled. Usage is read every 100ms from 50% of the limit. `false`: off.
   */
  timeToLimit: timeToLimitOption,
});

/** The machine's available memory (Linux, Windows) or the OS's own level (macOS). */
const hostSchema = z.strictObject({
  /** Optional: signal `low` from here. */
  low: threshold.optional(),
  /** Signal `medium` from here. Default 25% available, i.e. 75% used (Chromium's moderate). */
  medium: threshold.default(parseThreshold('75%')),
  /** Signal `critical` from here. Default 15% available, i.e. 85% used (Chromium's critical). */
  critical: threshold.default(parseThreshold('85%')),
  /** The poll period. Default 1s. */
  interval: duration.default(1000),
});

/**
 * Options of the `system` source (`with:` in config). Each part can be turned off with `false`.
 *
 * @example
 * { container: { medium: '70%', critical: '64MiB free' }, host: false }
 */
export const systemSourceOptionsSchema = z.strictObject({
  /** The engine node under which `container` and `host` report. Default `/system`. */
  scope: z.string().startsWith('/', 'must be an absolute node path such as /system').default('/system'),
  /** Where /proc and /sys are: `/` on a real machine, a fixture tree in tests. */
  root: z.string().default('/'),
  /** Headroom against the container's own limit (cgroup v1, v2, or `process.constrainedMemory()`). */
  container: orFalse(containerSchema),
  /** The machine's memory. */
  host: orFalse(hostSchema),
  /** How often a level that has not changed is signalled again (a higher one at once). Default 1s. */
  repeat: duration.default(1000),
});

/** Options of the `system` source, defaults applied. */
export type SystemSourceOptions = z.output<typeof systemSourceOptionsSchema>;
/** Options of the `system` source as written in config. */
export type SystemSourceOptionsInput = z.input<typeof systemSourceOptionsSchema>;
/** The container part of {@link SystemSourceOptions}, when on. */
export type ContainerOptions = z.output<typeof containerSchema>;
/** The host part of {@link SystemSourceOptions}, when on. */
export type HostOptions = z.output<typeof hostSchema>;
