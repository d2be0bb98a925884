import type { PressureEvent } from '../engine';
import { MemshedError } from '../errors';
import type { PressureState } from '../levels';
import type { SheddingAction } from '../plugin';

/** One step of a chain: an action and how the runner treats it. */
export interface ActionStep {
  /** The action to run. Its identity keys overlap and cooldown: one instance, one run at a time. */
  readonly action: SheddingAction;
  /** Name in records and logs. Default: the action's id. */
  readonly name?: string;
  /**
   * Milliseconds before the run's signal is aborted and the runner stops waiting (the chain goes
   * on). `Infinity` disables it. Default: the runner's `timeout`.
   */
  readonly timeout?: number;
  /** Milliseconds after a run settles during which the action is skipped. Default 0. */
  readonly cooldown?: number;
  /** Run this step as a dry run whatever the request says. */
  readonly dryRun?: boolean;
}

/** Why a run is asked for. */
export interface RunRequest {
  /** The monitor state behind the run. */
  readonly level: PressureState;
  /** The event that triggered it. */
  readonly trigger?: PressureEvent;
  /** The policy asking, for records and logs. */
  readonly policy?: string;
  /** Ask every step to only report what it would do. */
  readonly dryRun?: boolean;
  /** Aborting it cancels the running step (its signal is aborted) and ends the chain. */
  readonly signal?: AbortSignal;
}

/** A step with every default applied and every number checked. */
export interface NormalizedStep {
  readonly action: SheddingAction;
  readonly name: string;
  readonly timeout: number;
  readonly cooldown: number;
  readonly dryRun: boolean;
}

/**
 * Checks a step (or a bare action) and applies the defaults.
 *
 * @throws MemshedError `invalid-argument` for a step without an action, a negative or infinite
 *   cooldown, or a timeout that is not > 0.
 */
export function normalizeStep(
  step: ActionStep | SheddingAction,
  index: number,
  defaultTimeout: number,
): NormalizedStep {
  const spec: ActionStep | undefined = isAction(step) ? { action: step } : step;
  if (!spec || !isAction(spec.action)) {
    throw new MemshedError(
      'invalid-argument',
      `Step ${index} is not an action: it needs an id and a run() method`,
      {
        fix: 'pass a SheddingAction or { action, name?, timeout?, cooldown?, dryRun? }',
      },
    );
  }
  const cooldown = spec.cooldown ?? 0;
  if (!(cooldown >= 0) || !Number.isFinite(cooldown)) {
    throw new MemshedError(
      'invalid-argument',
      `Step ${index} ('${spec.action.id}') cooldown must be a finite number of ms >= 0, got ${cooldown}`,
    );
  }
  return {
    action: spec.action,
    name: spec.name ?? spec.action.id,
    timeout:
      spec.timeout === undefined
        ? defaultTimeout
        : checkTimeout(spec.timeout, `Step ${index} ('${spec.action.id}') timeout`),
    cooldown,
    dryRun: spec.dryRun ?? false,
  };
}

/**
 * `timeout` when it is a number of ms > 0 or `Infinity`.
 *
 * @throws MemshedError `invalid-argument` otherwise, naming `what`.
 */
export function checkTimeout(timeout: number, what: string): number {
  if (timeout === Infinity || (timeout > 0 && Number.isFinite(timeout))) return timeout;
  throw new MemshedError(
    'invalid-argument',
    `${what} must be a number of ms > 0 (or Infinity), got ${timeout}`,
  );
}

function isAction(value: unknown): value is SheddingAction {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as SheddingAction).id === 'string' &&
    typeof (value as SheddingAction).run === 'function'
  );
}
