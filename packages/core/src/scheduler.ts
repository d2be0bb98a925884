import type { SchedulerAction, SchedulerLike } from 'rxjs';
import { Subscription } from './rx';

class LoopAction<T> extends Subscription implements SchedulerAction<T> {
  private handle: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private isTimeout = false;

  constructor(private readonly work: (this: SchedulerAction<T>, state?: T) => void) {
    super();
    this.add(() => this.clear());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.clear();
    if (delay > 0) {
      this.isTimeout = true;
      // Timers never keep the host process alive on memshed's behalf.
      this.handle = setTimeout(() => this.execute(state), delay).unref();
    } else {
      this.isTimeout = false;
      this.handle = setImmediate(() => this.execute(state));
    }
    return this;
  }

  private execute(state: T | undefined): void {
    this.handle = undefined;
    this.work.call(this, state);
  }

  private clear(): void {
    if (this.handle === undefined) return;
    if (this.isTimeout) clearTimeout(this.handle as NodeJS.Timeout);
    else clearImmediate(this.handle as NodeJS.Immediate);
    this.handle = undefined;
  }
}

/**
 * The default scheduler of the engine and the monitor: work with no delay runs with
 * `setImmediate`, in the check phase of the current turn of the event loop, so that every
 * kernel event read in one poll phase is coalesced into one delivery (like the kernel's
 * `schedule_work`); delayed work uses unref'd timers, so memshed never keeps a process alive by
 * itself. `now()` is wall-clock milliseconds.
 *
 * Tests pass a `TestScheduler` instead, and everything runs in virtual time.
 */
export const loopScheduler: SchedulerLike = {
  now: () => Date.now(),
  schedule<T>(work: (this: SchedulerAction<T>, state?: T) => void, delay = 0, state?: T): Subscription {
    return new LoopAction(work).schedule(state, delay);
  },
};
