import {
  MemshedError,
  SheddingActionFactory,
  contributionProviderId,
  type ActionStep,
  type ContributionProvider,
  type SheddingAction,
} from '@memshed/core';
import type { Container } from '@memshed/core/inversify';
import type { CompiledPolicy } from './policy-runner';
import type { ActionEntryConfig, PolicyConfig } from './policy-schema';

/** An action of a policy, resolved: its plugin id and its options as the plugin's schema validated them. */
export interface PolicyActionSpec {
  /** The action plugin's id. */
  readonly use: string;
  /** The options, validated by the plugin's `optionsSchema` (defaults applied). */
  readonly options: unknown;
  /** Name in records and logs. */
  readonly name: string;
  /** Time budget in ms, when set for this action. */
  readonly timeout?: number;
}

/**
 * A policy with durations in ms and its actions resolved: what a config file and a simulation
 * scenario both turn their `policies:` into, and what {@link compilePolicies} compiles. Its
 * condition and timing are those of the {@link CompiledPolicy} it becomes.
 */
export interface PolicySpec extends Omit<CompiledPolicy, 'steps'> {
  /** The chain. */
  readonly do: readonly PolicyActionSpec[];
}

/** A parsed `do:` entry as a {@link PolicyActionSpec}, given its plugin id and validated options. */
export function toActionSpec(entry: ActionEntryConfig, use: string, options: unknown): PolicyActionSpec {
  return {
    use,
    options,
    name: entry.name ?? use,
    ...(entry.timeout !== undefined ? { timeout: entry.timeout } : {}),
  };
}

/** A parsed policy as a {@link PolicySpec} named `name`, with its actions resolved. */
export function toPolicySpec<A extends PolicyActionSpec>(
  policy: PolicyConfig,
  name: string,
  actions: readonly A[],
): PolicySpec & { readonly do: readonly A[] } {
  return {
    name,
    level: policy.when.level,
    for: policy.when.for,
    ...(policy.when.scope !== undefined ? { scope: policy.when.scope } : {}),
    ...(policy.cooldown !== undefined ? { cooldown: policy.cooldown } : {}),
    ...(policy.dryRun !== undefined ? { dryRun: policy.dryRun } : {}),
    do: actions,
  };
}

/** The action factories bound in a container (a running memshed's, so that actions share its services). */
export function actionFactoriesOf(container: Container): readonly SheddingActionFactory[] {
  return container
    .get<ContributionProvider<SheddingActionFactory>>(contributionProviderId(SheddingActionFactory))
    .getContributions();
}

/** Options of {@link compilePolicies}. */
export interface CompileOptions {
  /** Every policy dry-runs, whatever it says (the CLI's `--dry-run`). Default false. */
  readonly forceDryRun?: boolean;
}

/**
 * Turns policies into chains of action instances created by `factories`. One instance is created
 * per plugin and options, shared by every policy that names the same action the same way: the
 * runner never overlaps runs of one instance, so two policies cannot purge the same caches at once.
 *
 * @throws MemshedError `unknown-plugin` when an action's id has no factory among `factories`.
 */
export function compilePolicies(
  policies: readonly PolicySpec[],
  factories: readonly SheddingActionFactory[],
  options: CompileOptions = {},
): CompiledPolicy[] {
  const instances = new Map<string, SheddingAction>();
  const stepOf = (action: PolicyActionSpec, policy: string): ActionStep => {
    const key = `${action.use}\u0000${stableJson(action.options)}`;
    let instance = instances.get(key);
    if (!instance) {
      const factory = factories.find((f) => f.id === action.use);
      if (!factory) {
        const known = factories.map((f) => f.id).join(', ') || 'none';
        throw new MemshedError('unknown-plugin', `Policy '${policy}': no action plugin '${action.use}'`, {
          fix: `load the module that provides it; loaded actions: ${known}`,
        });
      }
      instance = factory.create(action.options);
      instances.set(key, instance);
    }
    return {
      action: instance,
      name: action.name,
      ...(action.timeout !== undefined ? { timeout: action.timeout } : {}),
    };
  };
  return policies.map((policy) => ({
    name: policy.name,
    level: policy.level,
    for: policy.for,
    ...(policy.scope !== undefined ? { scope: policy.scope } : {}),
    ...(policy.cooldown !== undefined ? { cooldown: policy.cooldown } : {}),
    ...(policy.dryRun !== undefined && options.forceDryRun !== true ? { dryRun: policy.dryRun } : {}),
    steps: policy.do.map((action) => stepOf(action, policy.name)),
  }));
}

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => a.localeCompare(b)))
      : inner,
  );
}
