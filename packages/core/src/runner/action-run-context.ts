import type { Observable, SchedulerLike } from 'rxjs';
import { NEVER } from '../rx';
import type { PressureState } from '../levels';
import type { ActionContext, ActionResult } from '../plugin';
import { loopScheduler } from '../scheduler';

/**
 * What the {@link ActionRunner} gives an action beyond {@link ActionContext}: the clock, the
 * monitor's state (for actions that undo themselves on recovery) and a channel for failures that
 * do not end the run (a write-back flush that failed while the rest of the purge succeeded).
 *
 * Actions take an `ActionContext` and read these through {@link runContextOf}, so they also work
 * when called with a bare `ActionContext`.
 */
export interface ActionRunContext extends ActionContext {
  /** The runner's scheduler: read time from it, schedule timers on it. */
  readonly scheduler: SchedulerLike;
  /** The monitor's state (replays the latest). `NEVER` when the runner has none. */
  readonly state$: Observable<PressureState>;
  /** Reports a failure on the runner's `errors$` and in the run's record, without failing the run. */
  report(error: unknown, message?: string): void;
}

/**
 * An {@link ActionResult} with structured details for the record, e.g. the gc action's heap and
 * RSS before and after. Details should be plain JSON-serialisable data.
 */
export interface DetailedActionResult extends ActionResult {
  /** Structured facts about the run, copied to the record as they are. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The context as an {@link ActionRunContext}: the runner's own when the action runs through the
 * runner, else the bare context with defaults (the loop scheduler, a state stream that never
 * emits, failures written to the context's logger).
 */
export function runContextOf(context: ActionContext): ActionRunContext {
  const candidate = context as Partial<ActionRunContext>;
  if (candidate.scheduler && candidate.state$ && typeof candidate.report === 'function') {
    return context as ActionRunContext;
  }
  return {
    ...context,
    scheduler: candidate.scheduler ?? loopScheduler,
    state$: candidate.state$ ?? NEVER,
    report:
      typeof candidate.report === 'function'
        ? candidate.report.bind(context)
        : (error, message) =>
            context.logger.error(
              `${message ?? 'action failure'}: ${error instanceof Error ? error.message : String(error)}`,
            ),
  };
}
