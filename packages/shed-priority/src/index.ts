/**
 * @memshed/shed-priority: one shedding order for everything memshed sheds. The cache-purge and
 * service-shutdown actions, the HTTP load shedder and the simulator's apps all rank what they
 * shed with these words, so `low` means the same thing in each of them.
 */
export { SHED_PRIORITIES, isShedPriority, shedPriorityRank } from './shed-priority';
export type { ShedPriority } from './shed-priority';
export { PriorityRegistry, registryOf } from './priority-registry';
export type {
  PriorityItem,
  PriorityRegistration,
  PriorityRegistryWording,
  RegistryLookup,
} from './priority-registry';
