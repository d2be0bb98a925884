import {
  createMemshed,
  silentLogger,
  type Logger,
  type Memshed,
  type PressureSource,
  type SourceSpec,
} from '@memshed/core';
import { attachPolicies, type PolicyDecision, type PolicyRunner } from '@memshed/policy';
import type { Observable, SchedulerLike } from 'rxjs';
import { loadConfig } from './load-config';
import type { LoadConfigOptions, LoadedConfig } from './load-config-types';

/** Options of {@link createMemshedFromConfig}. */
export interface ConfigMemshedOptions extends LoadConfigOptions {
  /** A config already loaded with {@link loadConfig}; then nothing is read again. */
  readonly loaded?: LoadedConfig;
  /** Force every policy to dry-run (the CLI's `--dry-run`). Default: as the config says. */
  readonly dryRun?: boolean;
  /**
   * Replaces the config's sources: plugin ids with their options (e.g. `[{ use: 'vmstat' }]` to
   * see what one source achieves alone), validated like the config's when memshed starts.
   * Default: the config's.
   */
  readonly sources?: readonly SourceSpec[];
  /** Sources to start besides those of the config (e.g. a test's FakeSource). */
  readonly extraSources?: readonly PressureSource[];
  /** Time and work scheduling; tests pass a ManualScheduler or TestScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Where to log. Default: silent. */
  readonly logger?: Logger;
}

/** A memshed built from a config: the running memshed, its policies and their decisions. */
export interface ConfiguredMemshed extends Memshed {
  /** The config it was built from. */
  readonly config: LoadedConfig;
  /** The policies, running. */
  readonly policies: PolicyRunner;
  /** What the policies decided: armed, disarmed, fired, completed. */
  readonly decisions$: Observable<PolicyDecision>;
  /**
   * Stops the policies (no new chain starts), waits up to `grace` ms for running chains and
   * cancels the rest through their signals, then stops every source and releases everything.
   * Default grace 0: running actions are cancelled at once. Idempotent.
   */
  stop(options?: { grace?: number }): Promise<void>;
}

/**
 * Loads a config (discovered with cosmiconfig, a file, or an object), validates all of it before
 * anything starts, starts its sources and attaches its policies. The same config runs in
 * `memshed run`.
 *
 * @throws ConfigError naming the file, the key path and the fix, when the config is not valid.
 *
 * @example
 * const memshed = await createMemshedFromConfig(); // .memshedrc.yaml, memshed.config.ts, ...
 * memshed.decisions$.subscribe((d) => console.log(d.type, d.policy));
 * process.on('SIGTERM', () => void memshed.stop({ grace: 5000 }));
 */
export async function createMemshedFromConfig(
  options: ConfigMemshedOptions = {},
): Promise<ConfiguredMemshed> {
  const config = options.loaded ?? (await loadConfig(options));
  const logger = options.logger ?? silentLogger;
  const memshed = await createMemshed({
    modules: config.modules,
    sources: [
      ...(options.sources ??
        config.sources.map((source) => ({ use: source.use, with: source.with, optional: source.optional }))),
      ...(options.extraSources ?? []),
    ],
    recovery: {
      quiet: config.recovery.quiet,
      scope: config.recovery.scope,
    },
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    logger,
    actions: { dryRun: options.dryRun ?? false, timeout: config.actionTimeout },
  });

  let policies: PolicyRunner;
  try {
    // Actions come from the running container, so that they share its services (e.g. the
    // registry of services that service-shutdown stops) with the application.
    policies = attachPolicies(memshed, config.policies, {
      forceDryRun: options.dryRun === true,
      dryRun: config.dryRun,
      quiet: config.recovery.quiet,
      logger,
    });
  } catch (error) {
    await memshed.stop();
    throw error;
  }
  policies.start();

  let stopping: Promise<void> | undefined;
  const stopMemshed = memshed.stop.bind(memshed);
  // The same object as the memshed, so that plugin facets (memshed.caches, memshed.services) stay.
  return Object.assign(memshed, {
    config,
    policies,
    decisions$: policies.decisions$,
    stop(stopOptions: { grace?: number } = {}) {
      // Policies first (actions may use services of the container), then the sources.
      stopping ??= policies.stop(stopOptions).then(() => stopMemshed());
      return stopping;
    },
  });
}
