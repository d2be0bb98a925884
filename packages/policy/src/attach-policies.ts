import type { Logger, Memshed, SheddingActionFactory } from '@memshed/core';
import { actionFactoriesOf, compilePolicies, type PolicySpec } from './compile-policies';
import { PolicyRunner } from './policy-runner';

/** Options of {@link attachPolicies}. */
export interface AttachPoliciesOptions {
  /** Dry run for policies that do not say. Default false. */
  readonly dryRun?: boolean;
  /** Every policy dry-runs, whatever it says. Default false. */
  readonly forceDryRun?: boolean;
  /** The quiet period of scoped policies' own monitors (ms). Default: the core default. */
  readonly quiet?: number;
  /** Where decisions are written. Default: silent. */
  readonly logger?: Logger;
  /** The action factories. Default: those bound in the memshed's container. */
  readonly factories?: readonly SheddingActionFactory[];
}

/**
 * Compiles `policies` into chains of actions from the memshed's container (so that actions share
 * its registries with the application) and returns a {@link PolicyRunner} on its monitor and
 * action runner, not started yet. `memshed run` and the simulator both attach policies this way.
 *
 * @throws MemshedError `unknown-plugin` when a policy names an action no factory provides.
 */
export function attachPolicies(
  memshed: Pick<Memshed, 'container' | 'monitor' | 'runner'>,
  policies: readonly PolicySpec[],
  options: AttachPoliciesOptions = {},
): PolicyRunner {
  const factories = options.factories ?? actionFactoriesOf(memshed.container);
  const compiled = compilePolicies(policies, factories, { forceDryRun: options.forceDryRun });
  return new PolicyRunner(compiled, {
    monitor: memshed.monitor,
    runner: memshed.runner,
    ...(options.quiet !== undefined ? { quiet: options.quiet } : {}),
    dryRun: (options.forceDryRun ?? false) || (options.dryRun ?? false),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
