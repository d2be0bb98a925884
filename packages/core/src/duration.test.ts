import { formatDuration, parseDuration } from './duration';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [' 0s ', 0],
    [250, 250],
  ] as const)('%p -> %p ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['5', 'five seconds', '-1s', '5d', '', 's'])('rejects %p with the accepted forms', (text) => {
    expect(() => parseDuration(text)).toThrow(`Invalid duration '${text}'. Fix: write a number with a unit`);
  });

  it('rejects negative and non-finite numbers', () => {
    expect(() => parseDuration(-1)).toThrow('Invalid duration');
    expect(() => parseDuration(Infinity)).toThrow('Invalid duration');
  });
});

describe('formatDuration', () => {
  it('round-trips through parseDuration', () => {
    for (const ms of [0, 1, 250, 1000, 1500, 60_000, 90_000, 120_000]) {
      expect(parseDuration(formatDuration(ms))).toBe(ms);
    }
  });
});
