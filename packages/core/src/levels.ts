/**
 * The Linux vmpressure levels, in order (include/linux/vmpressure.h, mm/vmpressure.c).
 *
 * - `low`: the system is reclaiming memory for new allocations; a good time to trim caches.
 * - `medium`: reclaim is struggling (60% or more of scanned pages could not be reclaimed);
 *   free what can easily be rebuilt.
 * - `critical`: reclaim is failing (95% or more), the OOM killer may be on its way; act now.
 */
export type PressureLevel = 'low' | 'medium' | 'critical';

/**
 * The monitor's state: a pressure level, or `normal` once no pressure event has been seen for
 * the quiet period. The kernel itself never says "normal"; memshed derives it.
 */
export type PressureState = PressureLevel | 'normal';

/**
 * How a listener receives events from nodes below it (cgroup-v1 `memory.pressure_level` modes).
 *
 * - `default`: delivered at the nearest node that has a listener; not above it once a listener
 *   below has been signalled (no passthrough).
 * - `hierarchy`: delivered at every ancestor, whatever was signalled below.
 * - `local`: delivered only for reclaim in the listener's own node.
 */
export type PressureMode = 'default' | 'hierarchy' | 'local';

/** The levels in kernel order: index 0 = low, 1 = medium, 2 = critical. */
export const PRESSURE_LEVELS: readonly PressureLevel[] = Object.freeze(['low', 'medium', 'critical']);

/** The monitor states in order, `normal` first. */
export const PRESSURE_STATES: readonly PressureState[] = Object.freeze([
  'normal',
  'low',
  'medium',
  'critical',
]);

/** The listener modes. */
export const PRESSURE_MODES: readonly PressureMode[] = Object.freeze(['default', 'hierarchy', 'local']);

/** The kernel's numeric value of a level: low 0, medium 1, critical 2. */
export function levelIndex(level: PressureLevel): number {
  switch (level) {
    case 'low':
      return 0;
    case 'medium':
      return 1;
    case 'critical':
      return 2;
  }
}

/** The numeric rank of a state: normal 0, low 1, medium 2, critical 3. */
export function stateRank(state: PressureState): number {
  return state === 'normal' ? 0 : levelIndex(state) + 1;
}

/** Compares two levels: negative when `a` is lower than `b`, 0 when equal, positive when higher. */
export function compareLevels(a: PressureLevel, b: PressureLevel): number {
  return levelIndex(a) - levelIndex(b);
}

/** Whether `value` is one of the three level strings. */
export function isPressureLevel(value: unknown): value is PressureLevel {
  return value === 'low' || value === 'medium' || value === 'critical';
}

/** Whether `value` is one of the three mode strings. */
export function isPressureMode(value: unknown): value is PressureMode {
  return value === 'default' || value === 'hierarchy' || value === 'local';
}
