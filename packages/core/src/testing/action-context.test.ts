import { createActionContext } from './action-context';

describe(createActionContext, () => {
  it('fills the defaults around what it is given, failures to the logger', () => {
    const lines: string[] = [];
    const context = createActionContext({
      level: 'low',
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: (m: string) => void lines.push(m) },
    });
    expect(typeof context.scheduler.now()).toBe('number');
    context.report(new Error('x'), 'flush');
    expect(lines).toEqual(['flush: x']);
  });
});
