import { bytesToPages, formatBytes, parseBytes, parseRate } from './units';

describe('parseBytes', () => {
  it('reads binary and decimal units, and plain bytes', () => {
    expect(parseBytes('256MiB')).toBe(256 * 1024 ** 2);
    expect(parseBytes('64M')).toBe(64 * 1024 ** 2);
    expect(parseBytes('1.5 GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseBytes('500MB')).toBe(500_000_000);
    expect(parseBytes('4096')).toBe(4096);
    expect(parseBytes(0)).toBe(0);
  });

  it('rejects what is not a size', () => {
    expect(parseBytes('fast')).toBeUndefined();
    expect(parseBytes('12 parsecs')).toBeUndefined();
    expect(parseBytes(-1)).toBeUndefined();
    expect(parseBytes(Number.NaN)).toBeUndefined();
  });
});

describe('parseRate', () => {
  it('reads per second, minute and hour', () => {
    expect(parseRate('2MiB/s')).toBe(2 * 1024 ** 2);
    expect(parseRate('60MiB/m')).toBe(1024 ** 2);
    expect(parseRate('3600KiB/h')).toBe(1024);
    expect(parseRate(1000)).toBe(1000);
  });

  it('rejects a size without a time unit, and unknown units', () => {
    expect(parseRate('2MiB')).toBeUndefined();
    expect(parseRate('2MiB/week')).toBeUndefined();
    expect(parseRate('fast')).toBeUndefined();
  });
});

describe('bytesToPages', () => {
  it('rounds a partial page up', () => {
    expect(bytesToPages(4096)).toBe(1);
    expect(bytesToPages(4097)).toBe(2);
    expect(bytesToPages(0)).toBe(0);
  });
});

describe('formatBytes', () => {
  it('uses the largest binary unit', () => {
    expect(formatBytes(268_435_456)).toBe('256 MiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12)).toBe('12 B');
  });
});
