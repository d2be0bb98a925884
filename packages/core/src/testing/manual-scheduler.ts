import type { SchedulerAction, SchedulerLike } from 'rxjs';
// The simulator runs on this scheduler outside tests: one RxJS module, not the 223 of 'rxjs'.
import { Subscription } from '../rx';

interface Entry {
  due: number;
  seq: number;
  action: ManualAction<unknown>;
  state: unknown;
}

class ManualAction<T> extends Subscription implements SchedulerAction<T> {
  entry: Entry | undefined;

  constructor(
    private readonly scheduler: ManualScheduler,
    readonly work: (this: SchedulerAction<T>, state?: T) => void,
  ) {
    super();
    this.add(() => this.scheduler.dequeue(this as ManualAction<unknown>));
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
  private seq = 0;
  private queue: Entry[] = [];

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

  /** Moves the clock to `time`, running what falls due, in order. */
  advanceTo(time: number): void {
    for (;;) {
      const next = this.queue[0];
      if (!next || next.due > time) break;
      this.queue.shift();
      this.time = Math.max(this.time, next.due);
      next.action.entry = undefined;
      next.action.work.call(next.action, next.state);
    }
    this.time = Math.max(this.time, time);
  }

  /** How many actions are waiting. */
  get pending(): number {
    return this.queue.length;
  }

  /** @internal */
  enqueue(action: ManualAction<unknown>, state: unknown, delay: number): void {
    this.dequeue(action);
    const entry: Entry = { due: this.time + Math.max(0, delay), seq: this.seq++, action, state };
    action.entry = entry;
    // Keep the queue sorted by (due, seq); it is small in practice.
    let index = this.queue.length;
    while (index > 0 && this.queue[index - 1].due > entry.due) index--;
    this.queue.splice(index, 0, entry);
  }

  /** @internal */
  dequeue(action: ManualAction<unknown>): void {
    if (!action.entry) return;
    const index = this.queue.indexOf(action.entry);
    if (index >= 0) this.queue.splice(index, 1);
    action.entry = undefined;
  }
}
