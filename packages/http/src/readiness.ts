import {
  MemshedError,
  formatDuration,
  loopScheduler,
  stateRank,
  type PressureEvent,
  type PressureState,
} from '@memshed/core';
import { BehaviorSubject, distinctUntilChanged } from '@memshed/core/rx';
import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import type { PressureStateSource } from './load-shedder-options';
import {
  resolveReadinessOptions,
  type ReadinessCheck,
  type ReadinessCheckResult,
  type ReadinessOptions,
  type ResolvedReadinessOptions,
} from './readiness-options';
import type { RouteRule } from './route-rules';

/** Why a readiness probe says not ready. */
export type NotReadyReason = 'memory-pressure' | 'check-failed';

/** What a readiness probe answers (its JSON body). */
export interface ReadinessStatus {
  /** Whether the pod takes traffic: 200 when true, 503 when false. */
  readonly ready: boolean;
  /** Why not ready. */
  readonly reason?: NotReadyReason;
  /** Why not ready, for people. */
  readonly message?: string;
  /** memshed's pressure state now. */
  readonly state: PressureState;
}

/**
 * Kubernetes readiness from memshed's state, with a hold and hysteresis, and the application's own
 * check composed in:
 *
 * - not ready once pressure at or above `level` (critical) has lasted `hold` (2 s): the kubelet
 *   then takes the pod out of its Service's endpoints and new connections go to other pods, while
 *   the pod finishes what it holds and memshed's actions give memory back. With the source's
 *   `events$` (a running memshed has it), "lasted" means events at that level kept coming for
 *   `hold` within one episode of the state at or above it: one burst of events does not count,
 *   although memshed's state holds the level for its quiet period (5 s) after it. Without
 *   `events$`, the state itself must stay at or above `level` for `hold`;
 * - ready again once the state has stayed below `readyBelow` (medium) for `recovery` (10 s): a
 *   state that goes back and forth around `level` keeps the pod out, rather than flapping it in and
 *   out of the endpoints at every probe;
 * - while memory allows, the application's `check()` decides (a database down is not ready too);
 * - liveness never looks at memory: a pod restarted for being under pressure would lose its work
 *   and come back to the same pressure.
 *
 * When the source's `level$` completes (memshed stopped), memory no longer makes the pod not ready.
 * Hold and recovery run on the source's engine scheduler, so tests drive them in virtual time.
 *
 * @example
 * const readiness = new Readiness(memshed, { hold: '2s', recovery: '10s', check: () => db.isConnected() });
 * app.use(readinessProbes(readiness)); // GET /readyz, GET /livez
 */
export class Readiness {
  /** The options in effect, defaults applied (durations in milliseconds). */
  readonly options: ResolvedReadinessOptions;

  private state: PressureState = 'normal';
  private readonly pressureReady = new BehaviorSubject<boolean>(true);
  private changedAt: number;
  /** The pending hold (while ready, without events) or recovery (while not ready). */
  private timer: Subscription | undefined;
  /** Whether the hold is measured on events (the source has `events$`) rather than on the state. */
  private readonly holdOnEvents: boolean;
  /** The time of the first event at or above `level` of the current episode. */
  private episodeStart: number | undefined;
  private readonly check: ReadinessCheck | undefined;
  private readonly scheduler: SchedulerLike;
  private readonly subscription: Subscription;
  private closed = false;

  /**
   * @throws MemshedError `invalid-argument` for options that cannot work (an unknown level,
   * `readyBelow` above `level`, a duration or path that is not one).
   */
  constructor(source: PressureStateSource, options: ReadinessOptions = {}) {
    if (!source || typeof source.level$?.subscribe !== 'function') {
      throw new MemshedError('invalid-argument', 'Readiness needs something with a level$ to follow', {
        fix: 'pass the running memshed (createMemshed() or createMemshedFromConfig()) or its monitor',
      });
    }
    this.options = resolveReadinessOptions(options);
    this.check = options.check;
    this.scheduler = options.scheduler ?? source.engine?.scheduler ?? loopScheduler;
    this.changedAt = this.scheduler.now();
    this.holdOnEvents = typeof source.events$?.subscribe === 'function';
    this.subscription = source.level$.subscribe({
      next: (state) => this.enter(state),
      // Nothing watches memory any more: it must not keep the pod out of its Service forever.
      complete: () => this.stopFollowing(),
      error: () => this.stopFollowing(),
    });
    if (source.events$ && this.holdOnEvents) {
      this.subscription.add(source.events$.subscribe((event) => this.onEvent(event)));
    }
  }

  /**
   * Whether memory lets the pod take traffic (the pressure part only; the probe also asks `check()`),
   * replaying the current value and emitting each change.
   */
  get ready$(): Observable<boolean> {
    return this.pressureReady.pipe(distinctUntilChanged());
  }

  /** Whether memory lets the pod take traffic now (the pressure part only). */
  get readyForMemory(): boolean {
    return this.pressureReady.value;
  }

  /** When the pressure part last changed (the clock's milliseconds). */
  get since(): number {
    return this.changedAt;
  }

  /** The probe paths as load shedder rules of priority `essential`: put them first in `routes`. */
  get routes(): readonly RouteRule[] {
    return [
      { path: this.options.readinessPath, priority: 'essential' },
      { path: this.options.livenessPath, priority: 'essential' },
    ];
  }

  /**
   * The readiness probe's answer: not ready under sustained pressure (without asking `check()`,
   * which the pod does not need then), else what `check()` says. Never rejects.
   */
  async probe(): Promise<ReadinessStatus> {
    if (!this.pressureReady.value) {
      return {
        ready: false,
        reason: 'memory-pressure',
        message: this.pressureMessage(),
        state: this.state,
      };
    }
    if (!this.check) return { ready: true, state: this.state };
    const result = await this.runCheck(this.check);
    // Memory may have made the pod not ready while the check ran: that answer is the newer one.
    if (!this.pressureReady.value) return this.probe();
    return result.ready
      ? { ready: true, state: this.state }
      : {
          ready: false,
          reason: 'check-failed',
          message: result.reason ?? 'check() said not ready',
          state: this.state,
        };
  }

  /** Stops following the state: memory no longer makes the pod not ready. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription.unsubscribe();
    this.stopFollowing();
    this.pressureReady.complete();
  }

  private enter(state: PressureState): void {
    this.state = state;
    const rank = stateRank(state);
    if (this.pressureReady.value) {
      if (rank < stateRank(this.options.level)) {
        this.episodeStart = undefined;
        this.cancel();
      } else if (!this.holdOnEvents) {
        this.start(this.options.holdMs, false);
      }
    } else if (rank < stateRank(this.options.readyBelow)) {
      this.start(this.options.recoveryMs, true);
    } else {
      this.cancel();
    }
  }

  private onEvent(event: PressureEvent): void {
    if (!this.pressureReady.value || this.closed) return;
    if (stateRank(event.level) < stateRank(this.options.level)) return;
    const now = this.scheduler.now();
    this.episodeStart ??= now;
    if (now - this.episodeStart >= this.options.holdMs) {
      this.episodeStart = undefined;
      this.set(false);
    }
  }

  /** Becomes `ready` after `delay`, unless the state moves out of range first (which cancels it). */
  private start(delay: number, ready: boolean): void {
    if (this.timer) return;
    if (delay <= 0) {
      this.set(ready);
      return;
    }
    this.timer = this.scheduler.schedule(() => {
      this.timer = undefined;
      this.set(ready);
    }, delay);
  }

  private cancel(): void {
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private set(ready: boolean): void {
    if (this.pressureReady.value === ready) return;
    this.changedAt = this.scheduler.now();
    this.pressureReady.next(ready);
  }

  private stopFollowing(): void {
    this.cancel();
    this.state = 'normal';
    if (!this.pressureReady.closed) this.set(true);
  }

  private pressureMessage(): string {
    const { level, holdMs, readyBelow, recoveryMs } = this.options;
    return (
      `memory pressure at ${level} or above for ${formatDuration(holdMs)}; ` +
      `ready again after ${formatDuration(recoveryMs)} below ${readyBelow}`
    );
  }

  private runCheck(check: ReadinessCheck): Promise<ReadinessCheckResult> {
    const timeoutMs = this.options.checkTimeoutMs;
    return new Promise<ReadinessCheckResult>((resolve) => {
      let settled = false;
      const finish = (result: ReadinessCheckResult) => {
        if (settled) return;
        settled = true;
        timeout.unsubscribe();
        resolve(result);
      };
      const timeout = this.scheduler.schedule(
        () => finish({ ready: false, reason: `check() did not answer within ${formatDuration(timeoutMs)}` }),
        timeoutMs,
      );
      let answer: ReturnType<ReadinessCheck>;
      try {
        answer = check();
      } catch (error) {
        finish({ ready: false, reason: `check() threw: ${messageOf(error)}` });
        return;
      }
      Promise.resolve(answer).then(
        (value) => finish(resultOf(value)),
        (error: unknown) => finish({ ready: false, reason: `check() rejected: ${messageOf(error)}` }),
      );
    });
  }
}

function resultOf(value: unknown): ReadinessCheckResult {
  if (typeof value === 'boolean') return { ready: value };
  if (value && typeof value === 'object' && typeof (value as ReadinessCheckResult).ready === 'boolean') {
    const { ready, reason } = value as ReadinessCheckResult;
    return reason === undefined ? { ready } : { ready, reason: String(reason) };
  }
  return { ready: false, reason: 'check() answered neither true, false nor { ready }' };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether `value` is a {@link Readiness} (adapters take one or something to follow). */
export function isReadiness(value: unknown): value is Readiness {
  return value instanceof Readiness;
}
