import { MemshedError } from '@memshed/core';
import { formatTrigger, parseTrigger, triggerPercent, validateTrigger } from './psi-trigger';

describe('parseTrigger', () => {
  it.each([
    ['some 70ms 2s', { kind: 'some', stallUs: 70_000, windowUs: 2_000_000 }],
    ['full 100000 1000000', { kind: 'full', stallUs: 100_000, windowUs: 1_000_000 }],
    ['  some   150ms   2s ', { kind: 'some', stallUs: 150_000, windowUs: 2_000_000 }],
  ] as const)('reads %p', (text, trigger) => {
    expect(parseTrigger(text)).toEqual(trigger);
  });

  it.each([
    ['some 70ms', 'expected three words'],
    ['most 70ms 2s', "'most' is neither 'some' nor 'full'"],
    ['some soon 2s', "'soon' is not a duration"],
  ])('rejects %p', (text, why) => {
    expect(() => parseTrigger(text)).toThrow(`Invalid PSI trigger '${text}': ${why}`);
  });

  it('formats the kernel text', () => {
    expect(formatTrigger(parseTrigger('some 70ms 2s'))).toBe('some 70000 2000000');
  });

  it('gives the stall share for polling', () => {
    expect(triggerPercent(parseTrigger('some 100ms 2s'))).toBe(5);
  });
});

describe('validateTrigger', () => {
  it('accepts the 2 s defaults unprivileged and 1 s windows with CAP_SYS_RESOURCE', () => {
    expect(() => validateTrigger(parseTrigger('some 70ms 2s'), false)).not.toThrow();
    expect(() => validateTrigger(parseTrigger('full 70ms 1s'), true)).not.toThrow();
  });

  it('explains the 2 s rule without CAP_SYS_RESOURCE and says what to write instead', () => {
    let error: unknown;
    try {
      validateTrigger(parseTrigger('some 70ms 1s'), false);
    } catch (e) {
      error = e;
    }
    expect(MemshedError.is(error, 'permission')).toBe(true);
    expect((error as Error).message).toBe(
      "PSI trigger 'some 70000 1000000': without CAP_SYS_RESOURCE the kernel accepts only windows that are multiples of 2s. Fix: write 'some 140ms 2s' (the same stall share over 2s), or grant CAP_SYS_RESOURCE",
    );
  });

  it('enforces the kernel window range and stall bounds', () => {
    expect(() => validateTrigger(parseTrigger('some 10ms 400ms'), true)).toThrow(
      'the window must be 500ms to 10s',
    );
    expect(() => validateTrigger(parseTrigger('some 10ms 12s'), true)).toThrow(
      'the window must be 500ms to 10s',
    );
    expect(() => validateTrigger(parseTrigger('some 3s 2s'), true)).toThrow('at most the window');
  });
});
