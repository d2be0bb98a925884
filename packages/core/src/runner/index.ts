// The action runner: runs shedding actions with timeouts, cancellation, cooldowns and chains.
export * from './action-runner';
export type { ActionStep, RunRequest } from './action-step';
export type * from './action-run-record';
