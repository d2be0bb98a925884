import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import { NEVER, Subject } from '../rx';
import { MemshedError } from '../errors';
import type { PressureState } from '../levels';
import { silentLogger, type Logger } from '../logger';
import type { ActionContext, ActionResult, SheddingAction } from '../plugin';
import { loopScheduler } from '../scheduler';
import { formatDuration } from '../units';
import {
  checkTimeout,
  normalizeStep,
  type ActionStep,
  type NormalizedStep,
  type RunRequest,
} from './action-step';
import type {
  ActionRunRecord,
  ActionRunStatus,
  ActionSkipReason,
  ChainPosition,
  ChainRunRecord,
} from './action-run-record';
import { ActionSlots, type ActionSlot } from './action-slots';
import { chainEnding, chainRecord } from './chain-rule';
import { describeRecord, errorText, policyText, resultFields, skipText } from './run-report';

/** Default time budget of one action run: 10 s. */
export const DEFAULT_ACTION_TIMEOUT_MS = 10_000;

/** Options of {@link ActionRunner}. */
export interface ActionRunnerOptions {
  /** Time for timeouts, cooldowns and records. Default: the loop scheduler (wall clock). */
  readonly scheduler?: SchedulerLike;
  /** Where decisions and failures are written. Default: silent. */
  readonly logger?: Logger;
  /** The monitor's state, handed to actions (e.g. to restart services on recovery). Default `NEVER`. */
  readonly state$?: Observable<PressureState>;
  /** Run everything as a dry run. Default false. */
  readonly dryRun?: boolean;
  /** Default per-step timeout in ms. Default {@link DEFAULT_ACTION_TIMEOUT_MS}. */
  readonly timeout?: number;
  /** Also called with every failure (e.g. `monitor.reportError`). Exceptions it throws are swallowed. */
  readonly onError?: (error: MemshedError) => void;
}

/**
 * Runs shedding actions, alone or in ordered chains, and never lets one hurt the host or the
 * others:
 *
 * - every run gets an `AbortSignal`, aborted on its timeout (measured on the scheduler), when the
 *   request's signal aborts, and on {@link dispose};
 * - runs of one action instance never overlap: a step whose action is still running (even past
 *   its timeout, until it settles) is skipped;
 * - after a run settles, its action is skipped for the step's cooldown;
 * - dry runs tell the action to report and not act;
 * - chains run in order; a step that resolves with outcome `stop` ends the chain (enough was
 *   freed), as oomd's plugins do; a failed, timed-out or skipped step does not stop it, a
 *   cancelled one does;
 * - an action that throws, rejects or hangs becomes a record with status `failed` or `timeout`, a
 *   log line and an error on {@link errors$}. `run` and `runChain` never reject.
 *
 * Every reached step produces an {@link ActionRunRecord} on {@link results$} (the monitor's
 * `actions$`).
 *
 * @example
 * const runner = new ActionRunner({ logger, state$: monitor.level$, onError: (e) => monitor.reportError(e) });
 * const chain = await runner.runChain([{ action: purge, cooldown: 10_000 }, { action: gc }], { level: 'critical' });
 */
export class ActionRunner {
  /** A record per reached step, emitted when the runner stops waiting for it. */
  readonly results$: Observable<ActionRunRecord>;
  /** Failures of actions: thrown, rejected, timed out, or reported by the action. */
  readonly errors$: Observable<MemshedError>;

  private readonly results = new Subject<ActionRunRecord>();
  private readonly errors = new Subject<MemshedError>();
  private readonly slots = new ActionSlots();
  private readonly disposal = new AbortController();
  private readonly scheduler: SchedulerLike;
  private readonly logger: Logger;
  private readonly state$: Observable<PressureState>;
  private readonly timeout: number;
  private runs = 0;
  private chains = 0;

  constructor(private readonly options: ActionRunnerOptions = {}) {
    this.scheduler = options.scheduler ?? loopScheduler;
    this.logger = options.logger ?? silentLogger;
    this.state$ = options.state$ ?? NEVER;
    this.timeout = checkTimeout(options.timeout ?? DEFAULT_ACTION_TIMEOUT_MS, 'ActionRunner timeout');
    this.results$ = this.results.asObservable();
    this.errors$ = this.errors.asObservable();
  }

  /** Whether {@link dispose} was called. */
  get disposed(): boolean {
    return this.disposal.signal.aborted;
  }

  /** Whether a run of `action` has started and not settled. */
  isRunning(action: SheddingAction): boolean {
    return this.slots.peek(action)?.running ?? false;
  }

  /** Until when (scheduler time) `action` is cooling down; -Infinity when it is not. */
  coolingUntil(action: SheddingAction): number {
    return this.slots.peek(action)?.coolUntil ?? -Infinity;
  }

  /**
   * Runs one step outside any chain. Resolves with its record; never rejects.
   *
   * @throws MemshedError `invalid-argument` synchronously, for a malformed step.
   */
  run(step: ActionStep | SheddingAction, request: RunRequest): Promise<ActionRunRecord> {
    return this.execute(this.normalize(step, 0), request, undefined);
  }

  /**
   * Runs steps in order until one returns outcome `stop`, the request is cancelled or the steps
   * run out. Resolves with the chain's record; never rejects.
   *
   * @throws MemshedError `invalid-argument` synchronously, for a malformed step.
   */
  runChain(steps: readonly (ActionStep | SheddingAction)[], request: RunRequest): Promise<ChainRunRecord> {
    const normalized = steps.map((step, index) => this.normalize(step, index));
    const chain = ++this.chains;
    return this.executeChain(chain, normalized, request).catch((error: unknown) => {
      // Only a bug in the runner gets here; the host must still never see a rejection.
      const failure = MemshedError.from(error, 'internal', `Action chain ${chain} failed inside the runner`);
      this.fail(failure);
      const now = this.scheduler.now();
      const dryRun = this.isDryRun(request);
      return chainRecord(chain, request, {
        dryRun,
        startedAt: now,
        finishedAt: now,
        steps: [],
        ended: 'cancelled',
      });
    });
  }

  /**
   * Aborts every running step (their records say `cancelled`), skips any later step and completes
   * {@link results$} and {@link errors$}. Actions that ignore their signal keep running in the
   * background, but nothing they do reaches the host as an error. Idempotent.
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposal.abort(new MemshedError('action-failed', 'The action runner was disposed'));
    this.results.complete();
    this.errors.complete();
  }

  private async executeChain(
    chain: number,
    steps: readonly NormalizedStep[],
    request: RunRequest,
  ): Promise<ChainRunRecord> {
    const startedAt = this.scheduler.now();
    const records: ActionRunRecord[] = [];
    let ended: ChainRunRecord['ended'] = 'completed';
    let stoppedBy: string | undefined;
    for (let index = 0; index < steps.length; index++) {
      const record = await this.execute(steps[index], request, { id: chain, index, length: steps.length });
      records.push(record);
      const ending = chainEnding(record);
      if (ending) {
        ended = ending;
        if (ending === 'stopped') stoppedBy = record.name;
        break;
      }
    }
    const finishedAt = this.scheduler.now();
    this.log(
      'debug',
      () => `chain ${chain}${policyText(request.policy)}: ${ended} after ${records.length} step(s)`,
    );
    const dryRun = this.isDryRun(request);
    return chainRecord(chain, request, { dryRun, startedAt, finishedAt, steps: records, ended, stoppedBy });
  }

  private execute(
    step: NormalizedStep,
    request: RunRequest,
    chain: ChainPosition | undefined,
  ): Promise<ActionRunRecord> {
    const run = ++this.runs;
    const startedAt = this.scheduler.now();
    const dryRun = step.dryRun || this.isDryRun(request);
    const base = {
      run,
      ...(chain ? { chain } : {}),
      action: step.action.id,
      name: step.name,
      ...(request.policy === undefined ? {} : { policy: request.policy }),
      level: request.level,
      trigger: request.trigger,
      dryRun,
      startedAt,
    };
    const skip = this.skipReason(step.action, startedAt, request);
    if (skip) {
      const record: ActionRunRecord = {
        ...base,
        status: 'skipped',
        skipped: skip,
        finishedAt: startedAt,
        outcome: 'continue',
        errors: [],
      };
      this.log(
        'debug',
        () => `${this.label(step, request)} skipped: ${skipText(skip, this.slots.peek(step.action))}`,
      );
      this.emit(record);
      return Promise.resolve(record);
    }

    const state = this.slots.take(step.action, startedAt);
    const controller = new AbortController();
    const reported: MemshedError[] = [];
    let finished = false;
    let timer: Subscription | undefined;

    return new Promise<ActionRunRecord>((resolve) => {
      const cleanup = () => {
        timer?.unsubscribe();
        request.signal?.removeEventListener('abort', onCancel);
        this.disposal.signal.removeEventListener('abort', onCancel);
      };
      const finish = (status: ActionRunStatus, result: ActionResult | undefined, error?: MemshedError) => {
        if (finished) return;
        finished = true;
        cleanup();
        if (error) this.fail(error);
        const record: ActionRunRecord = {
          ...base,
          status,
          finishedAt: this.scheduler.now(),
          outcome: status === 'ok' && result?.outcome === 'stop' ? 'stop' : 'continue',
          ...resultFields(result),
          errors: error ? [...reported, error] : [...reported],
        };
        this.log(
          status === 'ok' ? 'info' : 'warn',
          () => `${this.label(step, request)}: ${describeRecord(record)}`,
        );
        this.emit(record);
        resolve(record);
      };
      const onCancel = () => {
        const reason: unknown = this.disposal.signal.aborted
          ? this.disposal.signal.reason
          : request.signal?.reason;
        controller.abort(
          MemshedError.from(
            reason ?? 'cancelled',
            'action-failed',
            `${this.label(step, request)} was cancelled`,
          ),
        );
        finish('cancelled', undefined);
      };

      const context: ActionContext = {
        level: request.level,
        trigger: request.trigger,
        dryRun,
        signal: controller.signal,
        logger: this.logger,
        ...(request.policy === undefined ? {} : { policy: request.policy }),
        scheduler: this.scheduler,
        state$: this.state$,
        report: (error, message) => {
          const failure = MemshedError.from(
            error,
            'action-failed',
            message ?? `${this.label(step, request)} reported a failure`,
            {
              context: { action: step.action.id, run },
            },
          );
          if (finished) this.fail(failure);
          else {
            reported.push(failure);
            this.fail(failure);
          }
        },
      };

      if (request.signal?.aborted === false)
        request.signal.addEventListener('abort', onCancel, { once: true });
      this.disposal.signal.addEventListener('abort', onCancel, { once: true });
      if (Number.isFinite(step.timeout)) {
        timer = this.scheduler.schedule(() => {
          const error = new MemshedError(
            'timeout',
            `${this.label(step, request)} did not finish within ${formatDuration(step.timeout)}`,
            {
              fix: "raise the step's timeout, or make the action honour context.signal",
              context: { action: step.action.id, run, timeout: step.timeout },
            },
          );
          controller.abort(error);
          finish('timeout', undefined, error);
        }, step.timeout);
      }

      let pending: Promise<ActionResult>;
      try {
        pending = Promise.resolve(step.action.run(context));
      } catch (error) {
        pending = Promise.reject(error);
      }
      pending.then(
        (result) => {
          this.settle(step, state, finished, 'resolved');
          if (result !== undefined && (typeof result !== 'object' || result === null)) {
            finish(
              'failed',
              undefined,
              new MemshedError(
                'action-failed',
                `${this.label(step, request)} resolved with ${String(result)} instead of an ActionResult`,
                {
                  fix: 'resolve with an object such as { freedBytes, summary }',
                  context: { action: step.action.id, run },
                },
              ),
            );
          } else finish('ok', result ?? {});
        },
        (error: unknown) => {
          this.settle(step, state, finished, error);
          finish(
            'failed',
            undefined,
            MemshedError.from(error, 'action-failed', `${this.label(step, request)} failed`, {
              context: { action: step.action.id, run },
            }),
          );
        },
      );
    });
  }

  /** The action really settled: free it for the next run and start its cooldown. */
  private settle(step: NormalizedStep, state: ActionSlot, late: boolean, outcome: unknown): void {
    const now = this.scheduler.now();
    this.slots.release(state, now, step.cooldown);
    if (late) {
      this.log('info', () =>
        outcome === 'resolved'
          ? `action '${step.name}' settled ${now - state.since} ms after it started, after the runner stopped waiting`
          : `action '${step.name}' rejected after the runner stopped waiting: ${errorText(outcome)}`,
      );
    }
  }

  private skipReason(action: SheddingAction, now: number, request: RunRequest): ActionSkipReason | undefined {
    if (this.disposed) return 'disposed';
    if (request.signal?.aborted) return 'cancelled';
    return this.slots.busy(action, now);
  }

  private normalize(step: ActionStep | SheddingAction, index: number): NormalizedStep {
    return normalizeStep(step, index, this.timeout);
  }

  private isDryRun(request: RunRequest): boolean {
    return Boolean(request.dryRun || this.options.dryRun);
  }

  private label(step: NormalizedStep, request: RunRequest): string {
    return `Action '${step.name}'${policyText(request.policy)}`;
  }

  private emit(record: ActionRunRecord): void {
    if (!this.results.closed) this.results.next(record);
  }

  private fail(error: MemshedError): void {
    this.log('error', () => error.message);
    if (!this.errors.closed) this.errors.next(error);
    try {
      this.options.onError?.(error);
    } catch {
      // A failing error handler must not turn an action failure into a host failure.
    }
  }

  private log(level: keyof Logger, message: () => string): void {
    try {
      this.logger[level](message());
    } catch {
      // Logging is best effort.
    }
  }
}
