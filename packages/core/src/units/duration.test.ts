import { MemshedError } from '../errors';
import {
  DURATION_OR_NEVER_PATTERN,
  DURATION_PATTERN,
  formatDuration,
  parseDuration,
  parseDurationOrNever,
} from './duration';

describe(parseDuration, () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [' 0s ', 0],
    ['5000', 5000],
    ['0', 0],
    [250, 250],
    [5000, 5000],
    [0.4, 0],
  ] as const)('%p -> %p ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    [
      'five seconds',
      "Invalid duration 'five seconds'. Fix: write a number of milliseconds, or a number with a unit",
    ],
    ['-1s', "Invalid duration '-1s'. Fix"],
    ['5d', "Invalid duration '5d': unknown unit 'd'. Fix: write a number of milliseconds"],
    ['5sx', "Invalid duration '5sx': unknown unit 'sx' (did you mean '5s'?). Fix"],
    ['', "Invalid duration ''. Fix"],
    ['s', "Invalid duration 's'. Fix"],
    ['never', "Invalid duration 'never'. Fix"],
  ])('refuses %p: %s', (text, message) => {
    expect(() => parseDuration(text)).toThrow(MemshedError);
    expect(() => parseDuration(text)).toThrow(message);
  });

  it('refuses negative and non-finite numbers', () => {
    expect(() => parseDuration(-1)).toThrow("Invalid duration '-1'");
    expect(() => parseDuration(Infinity)).toThrow("Invalid duration 'Infinity'");
  });
});

describe(parseDurationOrNever, () => {
  it('reads never as Infinity and the rest as parseDuration', () => {
    expect(parseDurationOrNever('never')).toBe(Infinity);
    expect(parseDurationOrNever('5s')).toBe(5000);
    expect(parseDurationOrNever(20)).toBe(20);
    expect(() => parseDurationOrNever('nevermore')).toThrow('Invalid duration');
  });
});

describe('DURATION_PATTERN', () => {
  it('accepts exactly what parseDuration accepts', () => {
    const pattern = new RegExp(DURATION_PATTERN);
    for (const text of ['500ms', '5s', '1.5s', '2m', '1h', '5000', ' 0s '])
      expect([text, pattern.test(text)]).toEqual([text, true]);
    for (const text of ['5d', '-1s', 's', '', 'never'])
      expect([text, pattern.test(text)]).toEqual([text, false]);
    expect(new RegExp(DURATION_OR_NEVER_PATTERN).test('never')).toBe(true);
    expect(new RegExp(DURATION_OR_NEVER_PATTERN).test('5s')).toBe(true);
  });
});

describe(formatDuration, () => {
  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 250, 1000, 1500, 60_000, 90_000, 120_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
    expect(parseDurationOrNever(formatDuration(Infinity))).toBe(Infinity);
  });
});
