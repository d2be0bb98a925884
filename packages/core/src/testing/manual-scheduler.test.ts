import { ManualScheduler } from './manual-scheduler';

describe(ManualScheduler, () => {
  it('runs work in time order, FIFO at equal times, only when the clock moves', () => {
    const scheduler = new ManualScheduler(100);
    const order: string[] = [];
    scheduler.schedule(() => order.push('b@110'), 10);
    scheduler.schedule(() => order.push('a@100'), 0);
    scheduler.schedule(() => order.push('c@110'), 10);
    expect(order).toEqual([]);
    scheduler.advanceBy(9);
    expect(order).toEqual(['a@100']);
    scheduler.advanceBy(1);
    expect(order).toEqual(['a@100', 'b@110', 'c@110']);
    expect(scheduler.now()).toBe(110);
  });

  it('runs work scheduled while advancing, at its own time', () => {
    const scheduler = new ManualScheduler();
    const times: number[] = [];
    scheduler.schedule(function (this: { schedule(state?: unknown, delay?: number): unknown }) {
      times.push(scheduler.now());
      if (times.length < 3) this.schedule(undefined, 5);
    }, 5);
    scheduler.advanceBy(100);
    expect(times).toEqual([5, 10, 15]);
  });

  it('busy() moves the clock without running anything: what fell due runs late, at the next flush', () => {
    const clock = new ManualScheduler(0);
    const ran: number[] = [];
    clock.schedule(() => ran.push(clock.now()), 10);
    clock.busy(50);
    expect(ran).toEqual([]);
    expect(clock.now()).toBe(50);
    clock.flush();
    expect(ran).toEqual([50]);
  });

  it('drops unsubscribed work', () => {
    const scheduler = new ManualScheduler();
    let ran = false;
    const subscription = scheduler.schedule(() => (ran = true), 1);
    subscription.unsubscribe();
    scheduler.advanceBy(10);
    expect({ ran, pending: scheduler.pending }).toEqual({ ran: false, pending: 0 });
  });
});
