import {
  MemshedError,
  PRESSURE_LEVELS,
  isPressureLevel,
  levelIndex,
  type PressureLevel,
} from '@memshed/core';
import { SHED_PRIORITIES, isShedPriority, type ShedPriority } from '@memshed/shed-priority';

/**
 * How much a route matters when the server sheds load: the shared priorities of memshed
 * (`background` < `low` < `normal` < `high`, as the cache-purge and service-shutdown actions use
 * them) plus `essential`, for routes that are never shed (health checks, admin, metrics).
 */
export type RoutePriority = ShedPriority | 'essential';

/** Every route priority, in shedding order; `essential` last (never shed). */
export const ROUTE_PRIORITIES: readonly RoutePriority[] = Object.freeze([...SHED_PRIORITIES, 'essential']);

/** The level at which each priority is shed, or `never`. */
export type SheddingLevels = Readonly<Record<ShedPriority, PressureLevel | 'never'>>;

/**
 * The levels at which each priority is shed when nothing is configured: `background` routes at
 * `low` (the kernel's advice for low: "prematurely shut down unimportant services"), `low` routes at
 * `medium`, and everything but essentials at `critical`.
 */
export const DEFAULT_SHEDDING_LEVELS: SheddingLevels = Object.freeze({
  background: 'low',
  low: 'medium',
  normal: 'critical',
  high: 'critical',
});

/** Whether `value` is a route priority. */
export function isRoutePriority(value: unknown): value is RoutePriority {
  return value === 'essential' || isShedPriority(value);
}

/**
 * Checks a route priority given by the application.
 *
 * @throws MemshedError `invalid-argument` naming the accepted values.
 */
export function checkRoutePriority(value: unknown, where: string): RoutePriority {
  if (isRoutePriority(value)) return value;
  throw new MemshedError('invalid-argument', `${where}: unknown route priority '${String(value)}'`, {
    fix: `use one of ${ROUTE_PRIORITIES.join(', ')}`,
  });
}

/**
 * The level at which each priority is shed: `levels[p]` when given, else the default capped at
 * `level` (so `level: 'medium'` sheds `background` at low and every other non-essential route at
 * medium).
 *
 * @throws MemshedError `invalid-argument` for a level or priority that does not exist.
 */
export function resolveSheddingLevels(
  level: PressureLevel = 'critical',
  levels: Partial<Record<ShedPriority, PressureLevel | 'never'>> = {},
): SheddingLevels {
  if (!isPressureLevel(level)) {
    throw new MemshedError('invalid-argument', `Load shedding level '${String(level)}' is not a level`, {
      fix: `use one of ${PRESSURE_LEVELS.join(', ')}`,
    });
  }
  for (const [priority, value] of Object.entries(levels)) {
    if (!isShedPriority(priority)) {
      throw new MemshedError('invalid-argument', `levels.${priority}: unknown priority`, {
        fix: `use ${SHED_PRIORITIES.join(', ')} (essential routes are never shed)`,
      });
    }
    if (value !== undefined && value !== 'never' && !isPressureLevel(value)) {
      throw new MemshedError('invalid-argument', `levels.${priority}: '${String(value)}' is not a level`, {
        fix: `use one of ${PRESSURE_LEVELS.join(', ')} or 'never'`,
      });
    }
  }
  const capped = (priority: ShedPriority): PressureLevel | 'never' => {
    const given = levels[priority];
    if (given !== undefined) return given;
    const preset = DEFAULT_SHEDDING_LEVELS[priority] as PressureLevel;
    return levelIndex(preset) <= levelIndex(level) ? preset : level;
  };
  return Object.freeze({
    background: capped('background'),
    low: capped('low'),
    normal: levels.normal ?? level,
    high: levels.high ?? level,
  });
}
