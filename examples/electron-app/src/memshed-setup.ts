import { join } from 'node:path';
import gcModule from '@memshed/action-gc';
import { createMemshedFromConfig, loadConfig, type ConfiguredMemshed } from '@memshed/config';
import type { Logger, PressureSource } from '@memshed/core';
import electronModule, {
  electronEnvironmentModule,
  type ElectronEnvironment,
  type WindowPolicy,
} from '@memshed/electron';
import type { SchedulerLike } from 'rxjs';

/** The example's directory: its .memshedrc.yaml is there. */
export const EXAMPLE_DIR = join(__dirname, '..');

/** Options of {@link startMemshed}. */
export interface MemshedSetupOptions {
  /** Windows the policy never sheds (the main window), by id. */
  readonly keep: () => readonly number[];
  /** memshed's clock (a ManualScheduler in tests). */
  readonly scheduler?: SchedulerLike;
  /** Sources besides the config's. */
  readonly extraSources?: readonly PressureSource[];
  readonly logger?: Logger;
}

// #region window-policy
/** Never shed the windows in `keep()`; shed the others as the config says. */
export function windowPolicy(keep: () => readonly number[]): WindowPolicy {
  return (window) => (keep().includes(window.id) ? 'keep' : undefined);
}
// #endregion window-policy

/**
 * Starts memshed in the main process: the Electron objects are passed in (nothing is required
 * from `electron` here, so tests run it with stand-ins), the policy comes from .memshedrc.yaml.
 */
export async function startMemshed(
  electron: ElectronEnvironment,
  options: MemshedSetupOptions,
): Promise<ConfiguredMemshed> {
  // #region setup
  const config = await loadConfig({
    config: '.memshedrc.yaml',
    cwd: EXAMPLE_DIR,
    modules: [
      electronModule,
      electronEnvironmentModule({ ...electron, windowPolicy: windowPolicy(options.keep) }),
      gcModule,
    ],
  });
  return createMemshedFromConfig({
    loaded: config,
    scheduler: options.scheduler,
    extraSources: options.extraSources,
    logger: options.logger,
  });
  // #endregion setup
}
