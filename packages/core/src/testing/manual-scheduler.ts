import type { SchedulerAction, SchedulerLike } from 'rxjs';
// The simulator runs on this scheduler outside tests: one RxJS module, not the 223 of 'rxjs'.
import { Subscription } from '../rx';

class ManualAction<T> extends Subscription implements SchedulerAction<T> {
  // The queue holds the actions themselves (no entry object per schedule): the engine schedules
  // one action per window, so this is the simulator's per-window cost.
  queued = false;
  due = 0;
  state: T | undefined = undefined;

  constructor(
    private readonly scheduler: ManualScheduler,
    readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
  }

  // An override rather than a finalizer, which would allocate a closure and an array per action.
  override unsubscribe(): void {
    if (!this.closed) this.scheduler.dequeue(this as ManualAction<unknown>);
    super.unsubscribe();
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.scheduler.enqueue(this as ManualAction<unknown>, state, delay);
    return this;
  }
}

/**
 * A scheduler whose clock moves only when told: `advanceBy(ms)` runs every action due by then,
 * in time order (FIFO at equal times), including actions scheduled while advancing. For tests and
 * simulations that drive time themselves, outside TestScheduler marble tests.
 *
 * @example
 * const clock = new ManualScheduler();
 * const memshed = await createMemshed({ scheduler: clock });
 * clock.advanceBy(5000); // five virtual seconds, instantly
 */
export class ManualScheduler implements SchedulerLike {
  private time: number;
  private readonly queue: ManualAction<unknown>[] = [];

  constructor(start = 0) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new ManualAction<T>(this, work).schedule(state, delay);
  }

  /** Runs everything due now (delay 0 work), without moving the clock. */
  flush(): void {
    this.advanceTo(this.time);
  }

  /** Moves the clock forward by `ms`, running what falls due. */
  advanceBy(ms: number): void {
    this.advanceTo(this.time + ms);
  }

  /**
   * Moves the clock forward by `ms` without running anything, as a JavaScript thread busy that
   * long would (a synchronous collection): what falls due meanwhile runs late, at the next
   * {@link flush} or advance, with the clock already past its due time.
   */
  busy(ms: number): void {
    this.time += Math.max(0, ms);
  }

  /** Moves the clock to `time`, running what falls due, in order. */
  advanceTo(time: number): void {
    const queue = this.queue;
    for (;;) {
      const next = queue[0];
      if (!next || next.due > time) break;
      queue.shift();
      if (next.due > this.time) this.time = next.due;
      next.queued = false;
      const state = next.state;
      next.state = undefined;
      next.work.call(next, state);
    }
    if (time > this.time) this.time = time;
  }

  /** How many actions are waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** @internal */
  enqueue(action: ManualAction<unknown>, state: unknown, delay: number): void {
    this.dequeue(action);
    action.due = this.time + Math.max(0, delay);
    action.state = state;
    action.queued = true;
    // Keep the queue sorted by due time, FIFO at equal times; it is small in practice, and work
    // due now goes last.
    const queue = this.queue;
    let index = queue.length;
    while (index > 0 && queue[index - 1].due > action.due) index--;
    if (index === queue.length) queue.push(action);
    else queue.splice(index, 0, action);
  }

  /** @internal */
  dequeue(action: ManualAction<unknown>): void {
    if (!action.queued) return;
    const index = this.queue.indexOf(action);
    if (index >= 0) this.queue.splice(index, 1);
    action.queued = false;
    action.state = undefined;
  }
}
