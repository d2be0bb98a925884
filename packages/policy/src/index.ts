export {
  actionEntrySchema,
  durationInputSchema,
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
export { PolicyRunner } from './policy-runner';
export type { CompiledPolicy, PolicyDecision, PolicyRunnerOptions } from './policy-runner';
export { attachPolicies } from './attach-policies';
export type { AttachPoliciesOptions } from './attach-policies';
