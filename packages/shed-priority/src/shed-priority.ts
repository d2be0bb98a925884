import { MemshedError } from '@memshed/core';

/**
 * How much a cache or a service matters to the application, lowest first: `background` is shed
 * first, `high` last (services of priority `high` are never below any threshold). Shared by the
 * cache-purge and service-shutdown actions, the HTTP load shedder's routes and the simulator, so
 * that one word means the same thing in each.
 */
export type ShedPriority = 'background' | 'low' | 'normal' | 'high';

/** The priorities in shedding order: index 0 is shed first. */
export const SHED_PRIORITIES: readonly ShedPriority[] = Object.freeze([
  'background',
  'low',
  'normal',
  'high',
]);

/** The numeric rank of a priority: background 0, low 1, normal 2, high 3. */
export function shedPriorityRank(priority: ShedPriority): number {
  const rank = SHED_PRIORITIES.indexOf(priority);
  if (rank < 0) {
    throw new MemshedError('invalid-argument', `Unknown priority '${String(priority)}'`, {
      fix: `use one of ${SHED_PRIORITIES.join(', ')}`,
    });
  }
  return rank;
}

/** Whether `value` is one of the priority strings. */
export function isShedPriority(value: unknown): value is ShedPriority {
  return typeof value === 'string' && (SHED_PRIORITIES as readonly string[]).includes(value);
}
