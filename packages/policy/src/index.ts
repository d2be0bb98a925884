export {
  actionEntrySchema,
  durationSchema,
  levelSchema,
  pluginNameSchema,
  policySchema,
  scopeSchema,
  whenSchema,
} from './policy-schema';
export type { ActionEntryConfig, PolicyConfig } from './policy-schema';
export { actionFactoriesOf, compilePolicies, toActionSpec, toPolicySpec } from './compile-policies';
export type { CompileOptions, PolicyActionSpec, PolicySpec } from './compile-policies';
export {
  PolicyRunner,
  RERUN_BACKOFF_INITIAL_MS,
  RERUN_BACKOFF_MAX_MS,
  RERUN_GAP_MAX_MS,
  RERUN_MIN_FREED_BYTES,
} from './policy-runner';
export type { CompiledPolicy, PolicyDecision, PolicyFireReason, PolicyRunnerOptions } from './policy-runner';
export { attachPolicies } from './attach-policies';
export type { AttachPoliciesOptions } from './attach-policies';
