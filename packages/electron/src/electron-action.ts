import type { ActionContext, ActionResult, SheddingAction } from '@memshed/core';
import type { ElectronEnvironment } from './electron-environment';

/**
 * A shedding action of the Electron main process: its validated options and the Electron modules
 * it acts on, both given by its plugin's `create` (the environment is injected so that tests pass
 * a fake Electron).
 */
export abstract class ElectronAction<Options> implements SheddingAction {
  /** The action's id, as used in config. */
  abstract readonly id: string;

  constructor(
    protected readonly options: Options,
    protected readonly environment: ElectronEnvironment,
  ) {}

  /** Runs the action; see {@link SheddingAction.run}. */
  abstract run(context: ActionContext): Promise<ActionResult>;
}
