import {
  ActionRunner,
  formatBytes,
  PressureMonitor,
  silentLogger,
  stateRank,
  type ActionStep,
  type ChainRunRecord,
  type Logger,
  type PressureEvent,
  type PressureLevel,
  type PressureState,
} from '@memshed/core';
import type { Observable, SchedulerLike } from 'rxjs';
import { Subject, Subscription } from '@memshed/core/rx';

/** A policy ready to run: its condition and its chain of actions. */
export interface CompiledPolicy {
  /** Unique name, for records and logs. */
  readonly name: string;
  /** Runs when the state is at or above this level... */
  readonly level: PressureLevel;
  /** ...and has stayed there this many ms. */
  readonly for: number;
  /** The scope watched (its own monitor), or undefined for the main monitor's state. */
  readonly scope?: string;
  /**
   * Ms after a run ends before the next, which then starts while the condition holds, without
   * waiting for a signal; undefined: the policy keeps up (it runs again on the first new signal
   * after each run, see {@link PolicyRunner}).
   */
  readonly cooldown?: number;
  /** Dry run for this policy; undefined: the runner's. */
  readonly dryRun?: boolean;
  /** The chain, in order. */
  readonly steps: readonly ActionStep[];
}

/**
 * A run that freed less than this in all (1 MiB) counts as having freed nothing: re-running a chain
 * for crumbs (a purge of what trickled back in since the last one) is a busy loop too.
 */
export const RERUN_MIN_FREED_BYTES = 1024 * 1024;
/** The first delay after a run that freed nothing, ms; it doubles with each such run in a row. */
export const RERUN_BACKOFF_INITIAL_MS = 100;
/** The longest backoff delay, ms. */
export const RERUN_BACKOFF_MAX_MS = 5000;
/**
 * The longest gap a policy without `cooldown` leaves after a run before its next one, ms: the gap
 * is the last run's duration (so that the service keeps at least half of its thread when the
 * chain is busy on it, as a collection is), capped here for chains that mostly wait (a drain).
 */
export const RERUN_GAP_MAX_MS = 1000;

/**
 * Why a policy's chain started:
 *
 * - `episode`: the first run of an episode (the condition started to hold and held `for`);
 * - `signal`: a policy without `cooldown` runs again: the condition still holds and a new pressure
 *   event at or above its level arrived after its last run completed;
 * - `cooldown`: a policy with `cooldown` runs again: the condition still holds when it elapses;
 * - `escalated`: a policy without `cooldown` runs again at once, without the gap and backoff of
 *   `signal`: an event above the level its last run was for (critical during a run for medium)
 *   arrived while that run was in flight. What the last run did was planned for less.
 */
export type PolicyFireReason = 'episode' | 'signal' | 'cooldown' | 'escalated';

/**
 * What the policy runner decided, in order, for logs and `memshed run --json`:
 *
 * - `armed`: the condition started to hold; the policy fires `at` (now + `for`) if it keeps holding.
 * - `disarmed`: the condition stopped holding before the policy fired.
 * - `fired`: the chain starts (`heldFor` ms after the condition started to hold), and why.
 * - `completed`: the chain ended; its record says how each action did and what it freed.
 * - `backed-off`: the chain freed nothing while the condition holds: the next run waits at least
 *   `delay` ms (until `until`).
 */
export type PolicyDecision =
  | {
      readonly type: 'armed';
      readonly policy: string;
      readonly time: number;
      readonly state: PressureState;
      readonly at: number;
    }
  | {
      readonly type: 'disarmed';
      readonly policy: string;
      readonly time: number;
      readonly state: PressureState;
    }
  | {
      readonly type: 'fired';
      readonly policy: string;
      readonly time: number;
      readonly state: PressureState;
      readonly heldFor: number;
      /** Why it runs now. */
      readonly reason: PolicyFireReason;
      /** Which run of the episode this is, from 1. */
      readonly run: number;
      /** With reason `signal`: the first event at or above the level after the last run completed. */
      readonly signal?: PressureEvent;
      /** The latest event at or above the policy's level (in its scope), handed to the actions. */
      readonly trigger: PressureEvent | undefined;
      readonly dryRun: boolean;
    }
  | {
      readonly type: 'completed';
      readonly policy: string;
      readonly time: number;
      readonly chain: ChainRunRecord;
    }
  | {
      readonly type: 'backed-off';
      readonly policy: string;
      readonly time: number;
      /** Ms from now before the policy may run again. */
      readonly delay: number;
      /** When it may run again. */
      readonly until: number;
      /** How many runs in a row freed nothing. */
      readonly fruitless: number;
      /** Why the run counts as having freed nothing, step by step. */
      readonly why: string;
    };

/** Options of {@link PolicyRunner}. */
export interface PolicyRunnerOptions {
  /** The monitor whose state drives policies without a scope (and whose engine scoped ones watch). */
  readonly monitor: PressureMonitor;
  /** Runs the chains. The policy runner disposes it on stop. */
  readonly runner: ActionRunner;
  /** The quiet period of scoped policies' own monitors (ms). Default: the core default. */
  readonly quiet?: number;
  /** Dry run for policies that do not say. Default false. */
  readonly dryRun?: boolean;
  /** Where decisions are written. Default: silent. */
  readonly logger?: Logger;
}

interface PolicyState {
  readonly policy: CompiledPolicy;
  readonly monitor: PressureMonitor;
  holding: boolean;
  since: number;
  /** Counts episodes, so that a run that ends in a later episode does not back that one off. */
  episode: number;
  /** Runs started in this episode. */
  runs: number;
  lastEndedAt: number | undefined;
  /** How long the last run took (ms): the gap before a re-run on a signal. */
  lastDuration: number;
  /** Runs in a row, in this episode, that freed nothing. */
  fruitless: number;
  timer: Subscription | undefined;
  running: { promise: Promise<void>; controller: AbortController } | undefined;
  /** The latest event at or above the level, in scope. */
  trigger: PressureEvent | undefined;
  /** The first event at or above the level since the last run completed; cleared when one starts. */
  signal: PressureEvent | undefined;
  /** The state the running (or last) run was started for. */
  firedFor: PressureState;
  /** The first event, during the run in flight, above the state that run was started for. */
  escalation: PressureEvent | undefined;
}

/**
 * Runs policies: each watches a monitor's state (with recovery), and when the state has been at
 * or above its level continuously for its `for`, runs its chain through the {@link ActionRunner}
 * (timeouts, cancellation, no overlap, dry run, `stop` outcomes). That is the episode's first run.
 * Then, while the state holds at or above the level:
 *
 * - without `cooldown`, the policy keeps up: it runs again as soon as its previous run has
 *   completed and a new signal (an event at or above its level, in its scope, from any source)
 *   has arrived since. Signals during a run do not queue anything: the first signal after the
 *   run completes starts the next one. The next run also leaves a gap after the last one as long
 *   as it took (at most {@link RERUN_GAP_MAX_MS}), so that a chain that keeps the thread busy (a
 *   collection) takes at most half of it however fast signals come. One exception: an event above
 *   the state the run in flight started for (critical during a run for medium) makes the next run
 *   start as soon as that one completes (`escalated`), without gap or backoff;
 * - with `cooldown`, it runs again `cooldown` ms after each run ends, signal or not, and a new
 *   episode within the cooldown waits for its end;
 * - either way, a run that freed nothing (its steps reported less than
 *   {@link RERUN_MIN_FREED_BYTES} in all, or were skipped, failed, timed out or were cancelled,
 *   or it was a dry run; an action that does not report what it freed counts as freeing) backs
 *   off: the next run waits at least {@link RERUN_BACKOFF_INITIAL_MS} after it, doubling with
 *   each such run in a row up to {@link RERUN_BACKOFF_MAX_MS}; a run that frees something, or
 *   the end of the episode, resets it;
 * - a policy's chain never overlaps itself.
 *
 * Each `fired` decision says why (`episode`, `signal`, `cooldown`), and each backoff is a
 * `backed-off` decision. Time is the monitor's scheduler: tests drive it in virtual time.
 */
export class PolicyRunner {
  /** Every decision, in order. */
  readonly decisions$: Observable<PolicyDecision>;

  private readonly decisions = new Subject<PolicyDecision>();
  private readonly states: PolicyState[] = [];
  private readonly subscription = new Subscription();
  private readonly scopeMonitors = new Map<string, PressureMonitor>();
  private readonly scheduler: SchedulerLike;
  private readonly logger: Logger;
  private started = false;
  private halted = false;

  constructor(
    readonly policies: readonly CompiledPolicy[],
    private readonly options: PolicyRunnerOptions,
  ) {
    this.scheduler = options.monitor.engine.scheduler;
    this.logger = options.logger ?? silentLogger;
    this.decisions$ = this.decisions.asObservable();
  }

  /** The action runner behind the chains (its `results$` has every action's record). */
  get runner(): ActionRunner {
    return this.options.runner;
  }

  /** Starts watching. Policies see the current state at once (level$ replays it). Idempotent. */
  start(): void {
    if (this.started || this.halted) return;
    this.started = true;
    for (const policy of this.policies) {
      const monitor = policy.scope === undefined ? this.options.monitor : this.scopeMonitor(policy.scope);
      const state: PolicyState = {
        policy,
        monitor,
        holding: false,
        since: 0,
        episode: 0,
        runs: 0,
        lastEndedAt: undefined,
        lastDuration: 0,
        fruitless: 0,
        timer: undefined,
        running: undefined,
        trigger: undefined,
        signal: undefined,
        firedFor: 'normal',
        escalation: undefined,
      };
      this.states.push(state);
      const scope = policy.scope ?? '/';
      this.subscription.add(
        this.options.monitor.events$.subscribe((event) => {
          if (stateRank(event.level) < stateRank(policy.level) || !within(event.scope, scope)) return;
          state.trigger = event;
          this.onSignal(state, event);
        }),
      );
      this.subscription.add(monitor.level$.subscribe((level) => this.onState(state, level)));
    }
  }

  /** Whether any chain is running. */
  get busy(): boolean {
    return this.states.some((state) => state.running !== undefined);
  }

  /**
   * Stops firing (no new chain starts), waits up to `grace` ms (on the scheduler) for running
   * chains to end, then cancels the rest through their signals, and disposes the action runner.
   * Resolves when every chain has ended. Idempotent.
   */
  async stop(options: { grace?: number } = {}): Promise<void> {
    if (!this.halted) {
      this.halted = true;
      this.subscription.unsubscribe();
      for (const state of this.states) {
        state.timer?.unsubscribe();
        state.timer = undefined;
      }
      for (const monitor of this.scopeMonitors.values()) monitor.dispose();
    }
    const running = this.states.flatMap((state) => (state.running ? [state.running] : []));
    const grace = options.grace ?? 0;
    if (running.length > 0 && grace > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.scheduler.schedule(() => resolve(), grace);
        void Promise.all(running.map((run) => run.promise)).then(() => {
          timer.unsubscribe();
          resolve();
        });
      });
    }
    for (const run of running) run.controller.abort(new Error('memshed is stopping'));
    await Promise.all(running.map((run) => run.promise));
    this.options.runner.dispose();
    this.decisions.complete();
  }

  /**
   * Cancels every running chain now, through its signal (the running action's `context.signal`
   * aborts; the chain ends as `cancelled`). Policies keep watching unless stopped.
   */
  cancel(reason: unknown = new Error('cancelled')): void {
    for (const state of this.states) state.running?.controller.abort(reason);
  }

  private scopeMonitor(scope: string): PressureMonitor {
    let monitor = this.scopeMonitors.get(scope);
    if (!monitor) {
      // A hierarchy listener at the scope, as a cgroup v1 listener there would be.
      monitor = new PressureMonitor(this.options.monitor.engine, { scope, quiet: this.options.quiet });
      this.scopeMonitors.set(scope, monitor);
    }
    return monitor;
  }

  private onState(state: PolicyState, level: PressureState): void {
    if (this.halted) return;
    const now = this.scheduler.now();
    const holds = stateRank(level) >= stateRank(state.policy.level);
    if (holds && !state.holding) {
      state.holding = true;
      state.since = now;
      state.episode++;
      state.runs = 0;
      this.emit({
        type: 'armed',
        policy: state.policy.name,
        time: now,
        state: level,
        at: now + state.policy.for,
      });
      this.evaluate(state);
    } else if (!holds && state.holding) {
      state.holding = false;
      // The episode is over: the next one starts afresh.
      state.fruitless = 0;
      state.signal = undefined;
      state.escalation = undefined;
      state.timer?.unsubscribe();
      state.timer = undefined;
      if (state.runs === 0)
        this.emit({ type: 'disarmed', policy: state.policy.name, time: now, state: level });
    }
  }

  /** An event at or above the policy's level, in its scope. */
  private onSignal(state: PolicyState, event: PressureEvent): void {
    if (this.halted) return;
    // A run in flight was planned for its state: an event above it (critical while a run for
    // medium collects) is remembered, and the next run starts as soon as this one completes.
    if (state.running) {
      if (!state.escalation && stateRank(event.level) > stateRank(state.firedFor)) state.escalation = event;
      return;
    }
    // Only the first signal after a run completed counts: one pending re-run at most, never a
    // backlog of signals that arrived while the chain was running.
    if (state.runs === 0 || state.signal) return;
    state.signal = event;
    if (state.policy.cooldown === undefined) this.evaluate(state);
  }

  private evaluate(state: PolicyState): void {
    state.timer?.unsubscribe();
    state.timer = undefined;
    if (this.halted || !state.holding || state.running) return;
    const { policy } = state;
    const now = this.scheduler.now();
    const backoff = state.lastEndedAt === undefined ? 0 : state.lastEndedAt + backoffDelay(state.fruitless);
    let due: number;
    let reason: PolicyFireReason;
    if (state.runs === 0) {
      reason = 'episode';
      due = state.since + policy.for;
      if (state.lastEndedAt !== undefined && policy.cooldown !== undefined) {
        due = Math.max(due, state.lastEndedAt + policy.cooldown);
      }
    } else if (policy.cooldown !== undefined) {
      reason = 'cooldown';
      due = Math.max(state.lastEndedAt! + policy.cooldown, backoff);
    } else if (state.escalation) {
      reason = 'escalated';
      due = state.lastEndedAt!;
    } else {
      if (!state.signal) return;
      reason = 'signal';
      due = Math.max(state.lastEndedAt! + Math.min(state.lastDuration, RERUN_GAP_MAX_MS), backoff);
    }
    if (now < due) {
      // Evaluate again then: by that time the state may have changed.
      state.timer = this.scheduler.schedule(() => {
        state.timer = undefined;
        this.evaluate(state);
      }, due - now);
      return;
    }
    // Due now: fire from the scheduler, not inside the state change or event, so that every
    // subscriber of the event behind it (the trigger), and a monitor stepping down now, has
    // been heard first.
    state.timer = this.scheduler.schedule(() => {
      state.timer = undefined;
      if (!this.halted && state.holding && !state.running) this.fire(state, reason);
    }, 0);
  }

  private fire(state: PolicyState, reason: PolicyFireReason): void {
    const { policy } = state;
    const now = this.scheduler.now();
    const level = currentState(state.monitor);
    const dryRun = policy.dryRun ?? this.options.dryRun ?? false;
    const signal = reason === 'escalated' ? state.escalation : state.signal;
    const episode = state.episode;
    state.signal = undefined;
    state.escalation = undefined;
    state.firedFor = level;
    state.runs++;
    this.emit({
      type: 'fired',
      policy: policy.name,
      time: now,
      state: level,
      heldFor: now - state.since,
      reason,
      run: state.runs,
      ...((reason === 'signal' || reason === 'escalated') && signal ? { signal } : {}),
      trigger: state.trigger,
      dryRun,
    });
    const controller = new AbortController();
    const promise = this.options.runner
      .runChain(policy.steps, {
        level,
        ...(state.trigger ? { trigger: state.trigger } : {}),
        policy: policy.name,
        dryRun,
        signal: controller.signal,
      })
      .then((chain) => {
        const ended = this.scheduler.now();
        state.running = undefined;
        state.lastEndedAt = ended;
        state.lastDuration = Math.max(0, ended - now);
        // Signals that came during the run are not new: the next run waits for one after this.
        state.signal = undefined;
        this.emit({ type: 'completed', policy: policy.name, time: ended, chain });
        if (state.episode === episode && state.holding) this.afterRun(state, chain, ended);
        this.evaluate(state);
      });
    state.running = { promise, controller };
  }

  /** Backs off after a run that freed nothing; a run that freed something resets the backoff. */
  private afterRun(state: PolicyState, chain: ChainRunRecord, ended: number): void {
    if (chainFreed(chain)) {
      state.fruitless = 0;
      return;
    }
    state.fruitless++;
    const delay = backoffDelay(state.fruitless);
    // Within a cooldown at least as long, the backoff changes nothing: no decision to report.
    if (state.policy.cooldown !== undefined && delay <= state.policy.cooldown) return;
    this.emit({
      type: 'backed-off',
      policy: state.policy.name,
      time: ended,
      delay,
      until: ended + delay,
      fruitless: state.fruitless,
      why: whyNothingFreed(chain),
    });
  }

  private emit(decision: PolicyDecision): void {
    if (this.decisions.closed) return;
    const detail =
      decision.type === 'fired'
        ? ` (${decision.reason}, run ${decision.run})`
        : decision.type === 'backed-off'
          ? ` ${decision.delay} ms: ${decision.why}`
          : '';
    this.logger.debug(`policy '${decision.policy}': ${decision.type}${detail}`);
    this.decisions.next(decision);
  }
}

/** The backoff after `fruitless` runs in a row that freed nothing: 0, then 100 ms doubling up to the cap. */
function backoffDelay(fruitless: number): number {
  if (fruitless <= 0) return 0;
  return Math.min(RERUN_BACKOFF_MAX_MS, RERUN_BACKOFF_INITIAL_MS * 2 ** (fruitless - 1));
}

/**
 * Whether a chain freed enough to keep re-running without backoff: its steps that ran for real
 * (status `ok`, not a dry run) reported {@link RERUN_MIN_FREED_BYTES} or more in all, or one of
 * them did not say what it freed (`freedBytes` unknown: the benefit of the doubt). The built-in
 * actions report 0 when they found nothing to do (cache-purge: nothing to purge; gc:
 * rate-limited, or no RSS returned; service-shutdown: nothing to stop).
 */
function chainFreed(chain: ChainRunRecord): boolean {
  const ran = chain.steps.filter((step) => step.status === 'ok' && !step.dryRun);
  if (ran.some((step) => step.freedBytes === undefined)) return true;
  return ran.reduce((sum, step) => sum + (step.freedBytes ?? 0), 0) >= RERUN_MIN_FREED_BYTES;
}

/** Why a chain counts as having freed nothing, step by step, for the `backed-off` decision. */
function whyNothingFreed(chain: ChainRunRecord): string {
  let total = 0;
  const steps = chain.steps.map((step) => {
    if (step.status === 'skipped') return `${step.name} skipped (${step.skipped ?? 'unknown'})`;
    if (step.status !== 'ok') return `${step.name} ${step.status}`;
    if (step.dryRun) return `${step.name} dry run`;
    total += step.freedBytes ?? 0;
    return `${step.name} freed ${formatBytes(step.freedBytes ?? 0)}${step.summary ? ` (${step.summary})` : ''}`;
  });
  const what =
    total > 0
      ? `freed ${formatBytes(total)}, less than ${formatBytes(RERUN_MIN_FREED_BYTES)}`
      : 'nothing freed';
  const ended = chain.ended === 'cancelled' ? ', chain cancelled' : '';
  return `${what}: ${steps.join('; ') || 'no step ran'}${ended}`;
}

function currentState(monitor: PressureMonitor): PressureState {
  return monitor.state;
}

function within(path: string, scope: string): boolean {
  return scope === '/' || path === scope || path.startsWith(`${scope}/`);
}
