import { MemshedError } from '@memshed/core';
import {
  formatThreshold,
  levelForUsage,
  lowestThreshold,
  parseThreshold,
  resolveThresholds,
  thresholdBytes,
} from './threshold';

const MiB = 1024 * 1024;

describe('parseThreshold', () => {
  it.each([
    ['75%', { kind: 'percent', value: 0.75, free: false }],
    [' 12.5 % ', { kind: 'percent', value: 0.125, free: false }],
    ['25% free', { kind: 'percent', value: 0.25, free: true }],
    ['384MiB', { kind: 'bytes', value: 384 * MiB, free: false }],
    ['512M', { kind: 'bytes', value: 512 * MiB, free: false }],
    ['1.5G', { kind: 'bytes', value: 1.5 * 1024 * MiB, free: false }],
    ['64 mib free', { kind: 'bytes', value: 64 * MiB, free: true }],
    ['100MiB', { kind: 'bytes', value: 100 * MiB, free: false }],
    ['4096', { kind: 'bytes', value: 4096, free: false }],
    [1048576, { kind: 'bytes', value: MiB, free: false }],
    [1.5, { kind: 'bytes', value: 1, free: false }],
  ])('reads %j', (input, expected) => {
    expect(parseThreshold(input)).toEqual(expected);
  });

  it.each(['0%', '101%', 'lots', '12 parsecs', '-5MiB', '', 0, 0.5, -1])(
    'rejects %j with the accepted forms',
    (input) => {
      expect(() => parseThreshold(input)).toThrow(MemshedError);
      expect(() => parseThreshold(input)).toThrow(
        /Invalid threshold .*Fix: write a share of the limit \('75%'/,
      );
    },
  );

  it.each([
    ['100MB', "'100MB' is ambiguous: write 100MiB (or 100M) for 2^20-byte megabytes, or 100000000 for SI"],
    ['64MB free', "'64MB' is ambiguous: write 64MiB (or 64M)"],
    ['64Mo free', "unknown unit 'Mo' (did you mean '64M'?)"],
  ])('refuses %j with what to write instead', (input, message) => {
    expect(() => parseThreshold(input)).toThrow(message);
  });
});

describe('formatThreshold', () => {
  it('writes what parseThreshold reads back', () => {
    for (const text of ['75%', '25% free', '384 MiB', '64 MiB free', '12.5%']) {
      expect(formatThreshold(parseThreshold(text))).toBe(text);
      expect(parseThreshold(formatThreshold(parseThreshold(text)))).toEqual(parseThreshold(text));
    }
  });
});

describe('thresholdBytes', () => {
  const limit = 256 * MiB;

  it('resolves a share, an amount used and an amount left against the limit', () => {
    expect(thresholdBytes(parseThreshold('75%'), limit)).toBe(192 * MiB);
    expect(thresholdBytes(parseThreshold('25% free'), limit)).toBe(192 * MiB);
    expect(thresholdBytes(parseThreshold('200MiB'), limit)).toBe(200 * MiB);
    expect(thresholdBytes(parseThreshold('64MiB free'), limit)).toBe(192 * MiB);
    expect(thresholdBytes(parseThreshold('300MiB free'), limit)).toBe(0);
  });

  it('never reaches a threshold relative to an infinite limit, but does reach an absolute one', () => {
    expect(thresholdBytes(parseThreshold('75%'), Infinity)).toBe(Infinity);
    expect(thresholdBytes(parseThreshold('64MiB free'), Infinity)).toBe(Infinity);
    expect(thresholdBytes(parseThreshold('200MiB'), Infinity)).toBe(200 * MiB);
  });
});

describe('levelForUsage', () => {
  const resolved = resolveThresholds(
    { low: parseThreshold('50%'), medium: parseThreshold('75%'), critical: parseThreshold('85%') },
    100 * MiB,
  );

  it('gives the highest level reached, and undefined below every threshold', () => {
    expect(levelForUsage(49 * MiB, resolved)).toBeUndefined();
    expect(levelForUsage(50 * MiB, resolved)).toBe('low');
    expect(levelForUsage(75 * MiB, resolved)).toBe('medium');
    expect(levelForUsage(85 * MiB, resolved)).toBe('critical');
  });

  it('never says low without a low threshold', () => {
    const noLow = resolveThresholds(
      { medium: parseThreshold('75%'), critical: parseThreshold('85%') },
      100 * MiB,
    );
    expect(noLow.low).toBe(Infinity);
    expect(levelForUsage(60 * MiB, noLow)).toBeUndefined();
    expect(lowestThreshold(noLow)).toBe(75 * MiB);
  });
});
