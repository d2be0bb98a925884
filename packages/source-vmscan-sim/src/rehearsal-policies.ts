import { stateRank, type PressureMonitor } from '@memshed/core';
import type { SchedulerLike } from 'rxjs';
import { Subscription } from '@memshed/core/rx';
import { runRehearsalAction, type RehearsalActionId } from './rehearsal-actions';
import type { ScenarioPolicy } from './scenario';
import type { SimulatedService } from './simulated-app';
import type { SimulatedMachine } from './simulated-machine';

interface PolicyState {
  readonly policy: ScenarioPolicy;
  /** Since when the monitor's state has been at or above the policy's level. */
  since: number | undefined;
  lastRun: number | undefined;
  check: Subscription | undefined;
}

interface PendingRestart {
  readonly service: SimulatedService;
  readonly after: number;
  readonly policy: string;
}

/**
 * Runs a scenario's policies against the simulated application: when the monitor's state has been
 * at or above a policy's level for its `for` duration, and its cooldown has passed since its last
 * run, its actions run in order on the simulated hooks (cache purges and service stops lower the
 * simulated usage at once), with the options and level rules of the real action plugins. Services
 * stopped by a service-shutdown with `restart` start again once the state has been `normal` for
 * `restart.after`.
 *
 * The shape is memshed config's; the timing is simplified (actions take no time, chains always
 * continue), so that a policy can be rehearsed before the real runner executes it.
 */
export class RehearsalPolicies {
  private readonly states: PolicyState[];
  private readonly subscription = new Subscription();
  private pendingRestarts: PendingRestart[] = [];
  private normalSince: number | undefined;

  constructor(
    policies: readonly ScenarioPolicy[],
    private readonly machine: SimulatedMachine,
    private readonly monitor: PressureMonitor,
    private readonly scheduler: SchedulerLike,
  ) {
    this.states = policies.map((policy) => ({
      policy,
      since: undefined,
      lastRun: undefined,
      check: undefined,
    }));
  }

  /** Starts following the monitor. */
  start(): void {
    this.subscription.add(this.monitor.level$.subscribe(() => this.evaluate()));
    this.subscription.add(this.monitor.events$.subscribe(() => this.evaluate()));
  }

  /** Stops following the monitor and cancels pending checks. */
  stop(): void {
    this.subscription.unsubscribe();
    for (const state of this.states) state.check?.unsubscribe();
  }

  private evaluate(): void {
    const now = this.scheduler.now();
    const level = this.monitor.state;
    const rank = stateRank(level);
    this.restartServices(now, level === 'normal');
    for (const state of this.states) {
      const policy = state.policy;
      if (rank < stateRank(policy.when.level)) {
        state.since = undefined;
        continue;
      }
      state.since ??= now;
      const due = Math.max(
        state.since + policy.when.for,
        state.lastRun === undefined ? -Infinity : state.lastRun + policy.cooldown,
      );
      if (now < due) {
        this.recheck(state, due - now);
        continue;
      }
      state.lastRun = now;
      for (const action of policy.do) {
        const outcome = runRehearsalAction(
          this.machine,
          action.use as RehearsalActionId,
          action.with,
          level,
          policy.name,
        );
        if (outcome.restartAfter !== undefined) {
          for (const service of outcome.stopped) {
            this.pendingRestarts.push({ service, after: outcome.restartAfter, policy: policy.name });
          }
        }
      }
    }
  }

  /** Starts stopped services whose `restart.after` of continuous `normal` has passed. */
  private restartServices(now: number, normal: boolean): void {
    if (!normal) {
      this.normalSince = undefined;
      return;
    }
    if (this.normalSince === undefined) {
      this.normalSince = now;
      for (const pending of this.pendingRestarts) this.later(pending.after, () => this.evaluate());
    }
    const since = this.normalSince;
    const ready = this.pendingRestarts.filter((pending) => now - since >= pending.after);
    if (ready.length === 0) return;
    this.pendingRestarts = this.pendingRestarts.filter((pending) => !ready.includes(pending));
    for (const pending of ready) pending.service.start(pending.policy);
  }

  /** Looks again when the policy falls due, in case no event comes by then. */
  private recheck(state: PolicyState, delay: number): void {
    if (state.check && !state.check.closed) return;
    state.check = this.later(delay, () => {
      state.check = undefined;
      this.evaluate();
    });
  }

  private later(delay: number, work: () => void): Subscription {
    const action = this.scheduler.schedule(() => {
      this.subscription.remove(action);
      work();
    }, delay);
    this.subscription.add(action);
    return action;
  }
}
