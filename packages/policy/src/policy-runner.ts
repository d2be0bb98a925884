import {
  ActionRunner,
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
  /** Ms after a run ends before the next; undefined: once per episode. */
  readonly cooldown?: number;
  /** Dry run for this policy; undefined: the runner's. */
  readonly dryRun?: boolean;
  /** The chain, in order. */
  readonly steps: readonly ActionStep[];
}

/**
 * What the policy runner decided, in order, for logs and `memshed run --json`:
 *
 * - `armed`: the condition started to hold; the policy fires `at` (now + `for`) if it keeps holding.
 * - `disarmed`: the condition stopped holding before the policy fired.
 * - `fired`: the chain starts (`heldFor` ms after the condition started to hold).
 * - `completed`: the chain ended; its record says how each action did and what it freed.
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
      readonly trigger: PressureEvent | undefined;
      readonly dryRun: boolean;
    }
  | {
      readonly type: 'completed';
      readonly policy: string;
      readonly time: number;
      readonly chain: ChainRunRecord;
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
  firedThisEpisode: boolean;
  lastEndedAt: number | undefined;
  timer: Subscription | undefined;
  running: { promise: Promise<void>; controller: AbortController } | undefined;
  trigger: PressureEvent | undefined;
}

/**
 * Runs policies: each watches a monitor's state (with recovery), and when the state has been at
 * or above its level continuously for its `for`, runs its chain through the {@link ActionRunner}
 * (timeouts, cancellation, no overlap, dry run, `stop` outcomes). Then:
 *
 * - without `cooldown`, the policy runs once per episode: the state must fall below its level and
 *   rise again (and hold `for` again) before the next run;
 * - with `cooldown`, it runs again while the condition holds, `cooldown` ms after each run ends,
 *   and a new episode within the cooldown waits for its end;
 * - a policy's chain never overlaps itself; if the condition still holds when a run ends, the
 *   next run waits for the cooldown (or the next episode).
 *
 * Time is the monitor's scheduler: tests drive it in virtual time.
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
        firedThisEpisode: false,
        lastEndedAt: undefined,
        timer: undefined,
        running: undefined,
        trigger: undefined,
      };
      this.states.push(state);
      const scope = policy.scope ?? '/';
      this.subscription.add(
        this.options.monitor.events$.subscribe((event) => {
          if (stateRank(event.level) >= stateRank(policy.level) && within(event.scope, scope))
            state.trigger = event;
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
      state.firedThisEpisode = false;
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
      state.timer?.unsubscribe();
      state.timer = undefined;
      if (!state.firedThisEpisode)
        this.emit({ type: 'disarmed', policy: state.policy.name, time: now, state: level });
    }
  }

  private evaluate(state: PolicyState): void {
    state.timer?.unsubscribe();
    state.timer = undefined;
    if (this.halted || !state.holding || state.running) return;
    const { policy } = state;
    if (state.firedThisEpisode && policy.cooldown === undefined) return;
    const now = this.scheduler.now();
    let due = state.since + policy.for;
    if (state.lastEndedAt !== undefined && policy.cooldown !== undefined) {
      due = Math.max(due, state.lastEndedAt + policy.cooldown);
    }
    if (now < due) {
      state.timer = this.scheduler.schedule(() => {
        state.timer = undefined;
        this.evaluate(state);
      }, due - now);
      return;
    }
    // Due now: fire from the scheduler, not inside the state change, so that every subscriber of
    // the event behind it (the trigger) has seen it first.
    state.timer = this.scheduler.schedule(() => {
      state.timer = undefined;
      if (!this.halted && state.holding && !state.running) this.fire(state);
    }, 0);
  }

  private fire(state: PolicyState): void {
    const { policy } = state;
    const now = this.scheduler.now();
    const level = currentState(state.monitor);
    const dryRun = policy.dryRun ?? this.options.dryRun ?? false;
    state.firedThisEpisode = true;
    this.emit({
      type: 'fired',
      policy: policy.name,
      time: now,
      state: level,
      heldFor: now - state.since,
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
        state.running = undefined;
        state.lastEndedAt = this.scheduler.now();
        this.emit({ type: 'completed', policy: policy.name, time: state.lastEndedAt, chain });
        this.evaluate(state);
      });
    state.running = { promise, controller };
  }

  private emit(decision: PolicyDecision): void {
    if (this.decisions.closed) return;
    this.logger.debug(`policy '${decision.policy}': ${decision.type}`);
    this.decisions.next(decision);
  }
}

function currentState(monitor: PressureMonitor): PressureState {
  return monitor.state;
}

function within(path: string, scope: string): boolean {
  return scope === '/' || path === scope || path.startsWith(`${scope}/`);
}
