import { loopScheduler } from './scheduler';

describe('loopScheduler', () => {
  it('runs zero-delay work in the check phase of this turn, coalescing with setImmediate order', async () => {
    const order: string[] = [];
    loopScheduler.schedule(() => order.push('scheduled'));
    setImmediate(() => order.push('immediate after'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['scheduled', 'immediate after']);
  });

  it('runs delayed work on an unref-ed timer, and not after unsubscribe', async () => {
    const ran: number[] = [];
    const kept = loopScheduler.schedule(() => ran.push(1), 5);
    loopScheduler.schedule(() => ran.push(2), 5).unsubscribe();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ran).toEqual([1]);
    kept.unsubscribe();
  });
});
