// The action runner: runs shedding actions with timeouts, cancellation, cooldowns and chains.
export { ActionRunner, DEFAULT_ACTION_TIMEOUT_MS } from './action-runner';
export type { ActionRunnerOptions } from './action-runner';
export type { ActionStep, RunRequest } from './action-step';
export type {
  ActionRunRecord,
  ActionRunStatus,
  ActionSkipReason,
  ChainPosition,
  ChainRunRecord,
} from './action-run-record';
