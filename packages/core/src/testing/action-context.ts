import { NEVER } from '../rx';
import { silentLogger } from '../logger';
import type { ActionContext } from '../plugin';
import { loopScheduler } from '../scheduler';

/**
 * An {@link ActionContext} for calling an action outside the action runner (a unit test, a
 * script): `level` is required, the rest defaults to a live signal, the silent logger, the loop
 * scheduler, a state that never changes, and failures reported to the logger's `error`.
 *
 * @example
 * const result = await action.run(createActionContext({ level: 'critical', scheduler }));
 */
export function createActionContext(
  context: Partial<ActionContext> & Pick<ActionContext, 'level'>,
): ActionContext {
  const logger = context.logger ?? silentLogger;
  return {
    trigger: undefined,
    dryRun: false,
    signal: new AbortController().signal,
    logger,
    scheduler: loopScheduler,
    state$: NEVER,
    report: (error, message) =>
      logger.error(
        `${message ?? 'action failure'}: ${error instanceof Error ? error.message : String(error)}`,
      ),
    ...context,
  };
}
