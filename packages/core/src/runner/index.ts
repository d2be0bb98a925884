// The action runner: runs shedding actions with timeouts, cancellation, cooldowns and chains.
export { ActionRunner, DEFAULT_ACTION_TIMEOUT_MS } from './action-runner';
export type { ActionRunnerOptions, ActionStep, RunRequest } from './action-runner';
export { runContextOf } from './action-run-context';
export type { ActionRunContext, DetailedActionResult } from './action-run-context';
export type {
  ActionRunRecord,
  ActionRunStatus,
  ActionSkipReason,
  ChainPosition,
  ChainRunRecord,
} from './action-run-record';
export { SHED_PRIORITIES, isShedPriority, shedPriorityRank } from './shed-priority';
export type { ShedPriority } from './shed-priority';
export { obtainGc } from './obtain-gc';
export type { GcAvailability, GcFunction } from './obtain-gc';
