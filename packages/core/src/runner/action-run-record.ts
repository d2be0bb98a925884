import type { PressureEvent } from '../engine';
import type { MemshedError } from '../errors';
import type { PressureState } from '../levels';
import type { ActionOutcome } from '../plugin';

/**
 * How one step of a run ended.
 *
 * - `ok`: the action resolved; its result is in the record.
 * - `failed`: it threw or rejected (the error is in `errors`); the chain goes on.
 * - `timeout`: it did not settle within its timeout; its signal was aborted and the chain went on.
 * - `cancelled`: the caller's signal or the runner's disposal aborted it; the chain ends.
 * - `skipped`: it did not start (see `skipped`); the chain goes on.
 */
export type ActionRunStatus = 'ok' | 'failed' | 'timeout' | 'cancelled' | 'skipped';

/**
 * Why a step did not start.
 *
 * - `running`: a run of the same action has not settled yet (runs of one action never overlap;
 *   a run that timed out holds the action until it settles).
 * - `cooldown`: the action's cooldown since its last run has not elapsed.
 * - `cancelled`: the caller's signal was aborted before the step started.
 * - `disposed`: the runner was disposed.
 */
export type ActionSkipReason = 'running' | 'cooldown' | 'cancelled' | 'disposed';

/** Where a step sits in a chain. */
export interface ChainPosition {
  /** The chain's run number (see {@link ChainRunRecord.chain}). */
  readonly id: number;
  /** The step's index in the chain, from 0. */
  readonly index: number;
  /** How many steps the chain has. */
  readonly length: number;
}

/**
 * What one attempted action run did, as emitted on `ActionRunner.results$` (and the monitor's
 * `actions$`). Times are in the runner scheduler's milliseconds.
 */
export interface ActionRunRecord {
  /** A number unique to this runner, increasing with every step. */
  readonly run: number;
  /** The chain the step belongs to, when it ran in one. */
  readonly chain?: ChainPosition;
  /** The action's plugin id, e.g. `cache-purge`. */
  readonly action: string;
  /** The step's name (default: the action id), for logs. */
  readonly name: string;
  /** The policy that asked for the run, when there is one. */
  readonly policy?: string;
  /** The state the run was asked for. */
  readonly level: PressureState;
  /** The event that triggered it, when there is one. */
  readonly trigger: PressureEvent | undefined;
  /** Whether the action was asked to only report what it would do. */
  readonly dryRun: boolean;
  /** How it ended. */
  readonly status: ActionRunStatus;
  /** Why it did not start, when `status` is `skipped`. */
  readonly skipped?: ActionSkipReason;
  /** When the step started (or was skipped). */
  readonly startedAt: number;
  /** When the runner stopped waiting for it: settled, timed out or cancelled. */
  readonly finishedAt: number;
  /** What the chain does next: the action's outcome when `ok`, `continue` for failures and skips. */
  readonly outcome: ActionOutcome;
  /** Bytes freed, when known. */
  readonly freedBytes?: number;
  /** Whether `freedBytes` is an estimate from sizes rather than a measurement. */
  readonly estimated?: boolean;
  /** One line: what was done, or what would have been. */
  readonly summary?: string;
  /** The action's structured facts (`ActionResult.details`), as the action returned them. */
  readonly details?: Readonly<Record<string, unknown>>;
  /** Every failure of the run: the one that ended it and those the action reported on the way. */
  readonly errors: readonly MemshedError[];
}

/** What one chain run did: its steps in order, and why it ended. */
export interface ChainRunRecord {
  /** A number unique to this runner, increasing with every chain. */
  readonly chain: number;
  /** The policy that asked for the run, when there is one. */
  readonly policy?: string;
  /** The state the run was asked for. */
  readonly level: PressureState;
  /** The event that triggered it, when there is one. */
  readonly trigger: PressureEvent | undefined;
  /** Whether the chain ran as a dry run. */
  readonly dryRun: boolean;
  /** When the chain started. */
  readonly startedAt: number;
  /** When its last step finished. */
  readonly finishedAt: number;
  /** The records of the steps that were reached, in order (also emitted on `results$`). */
  readonly steps: readonly ActionRunRecord[];
  /**
   * Why the chain ended: `completed` (every step was reached), `stopped` (a step returned outcome
   * `stop`), `cancelled` (the caller's signal or disposal).
   */
  readonly ended: 'completed' | 'stopped' | 'cancelled';
  /** The name of the step that stopped the chain, when `ended` is `stopped`. */
  readonly stoppedBy?: string;
}
