import { MemshedError } from '../errors';
import {
  SIZE_OR_PERCENT_PATTERN,
  SIZE_PATTERN,
  formatBytes,
  parseBytes,
  parseBytesOrPercent,
  parseRate,
} from './size';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;

/**
 * The two tables each parser here is tested with: the inputs it reads (and as what), and the
 * inputs it refuses with a MemshedError whose message contains the text given.
 */
function readsAndRefuses<T>(
  parse: (value: string | number) => T,
  unit: string,
  reads: [string | number, T][],
  refuses: [string | number, string][],
): void {
  it.each(reads)(`reads %p as %p${unit}`, (input, expected) => {
    expect(parse(input)).toEqual(expected);
  });

  it.each(refuses)('refuses %p: %s', (input, message) => {
    expect(() => parse(input)).toThrow(MemshedError);
    expect(() => parse(input)).toThrow(message);
  });
}

describe(parseBytes, () => {
  readsAndRefuses(
    parseBytes,
    ' bytes',
    [
      [512, 512],
      [512.9, 512],
      ['512', 512],
      ['524288000', 524_288_000],
      ['512B', 512],
      ['512b', 512],
      ['64K', 64 * KiB],
      ['64k', 64 * KiB],
      ['64Ki', 64 * KiB],
      ['64KiB', 64 * KiB],
      ['256M', 256 * MiB],
      ['256m', 256 * MiB],
      ['256Mi', 256 * MiB],
      ['256MiB', 256 * MiB],
      ['256mib', 256 * MiB],
      [' 2 MiB ', 2 * MiB],
      ['1.5G', 1.5 * GiB],
      ['1.5GiB', 1.5 * GiB],
      ['2Gi', 2 * GiB],
      ['1T', 2 ** 40],
      ['1TiB', 2 ** 40],
      ['0.3K', 307],
      ['0', 0],
    ],
    [
      ['512MB', "'512MB' is ambiguous: write 512MiB (or 512M) for 2^20-byte megabytes, or 512000000 for SI"],
      ['64KB', "'64KB' is ambiguous: write 64KiB (or 64K) for 2^10-byte kilobytes, or 64000 for SI"],
      ['64kB', "'64kB' is ambiguous: write 64KiB (or 64K) for 2^10-byte kilobytes, or 64000 for SI"],
      ['1.5GB', "'1.5GB' is ambiguous: write 1.5GiB (or 1.5G) for 2^30-byte gigabytes, or 1500000000 for SI"],
      ['2TB', "'2TB' is ambiguous: write 2TiB (or 2T) for 2^40-byte terabytes, or 2000000000000 for SI"],
      [
        '50%',
        "'50%' is a share of a limit, which this option does not take. Fix: write a size such as '512MiB'",
      ],
      [
        '512Mo',
        "Invalid size '512Mo': unknown unit 'Mo' (did you mean '512M'?). Fix: write a number of bytes",
      ],
      [
        '1X',
        "Invalid size '1X': unknown unit 'X'. Fix: write a number of bytes, or a number with a binary unit: '512K', '64M'",
      ],
      ['-1', "Invalid size '-1'. Fix: write a number of bytes"],
      ['M', "Invalid size 'M'. Fix"],
      ['', "Invalid size ''. Fix"],
      [-5, "Invalid size '-5'. Fix"],
      [Number.NaN, "Invalid size 'NaN'. Fix"],
      [Infinity, "Invalid size 'Infinity'. Fix"],
    ],
  );
});

describe(parseBytesOrPercent, () => {
  readsAndRefuses(
    parseBytesOrPercent,
    '',
    [
      ['75%', { percent: 75 }],
      [' 12.5 % ', { percent: 12.5 }],
      ['100%', { percent: 100 }],
      ['512M', { bytes: 512 * MiB }],
      [4096, { bytes: 4096 }],
    ],
    [
      ['0%', "Invalid share '0%'. Fix: write a share of the limit above 0% and at most 100%"],
      ['150%', "Invalid share '150%'"],
      ['512MB', "'512MB' is ambiguous"],
    ],
  );
});

describe(parseRate, () => {
  readsAndRefuses(
    parseRate,
    ' bytes per second',
    [
      ['2MiB/s', 2 * MiB],
      ['2M/s', 2 * MiB],
      ['60MiB/m', MiB],
      ['3600KiB/h', KiB],
      [1000, 1000],
    ],
    [
      ['2MiB', "Invalid rate '2MiB'. Fix: write a size per second such as '2MiB/s'"],
      ['2MiB/week', "Invalid rate '2MiB/week'"],
      ['2MB/s', "'2MB' is ambiguous"],
    ],
  );
});

describe('SIZE_PATTERN', () => {
  const sizes = ['512', '512B', '64K', '64k', '64Ki', '64KiB', '256M', '1.5GiB', ' 2 MiB '];
  const refused = ['512MB', '64kB', '50%', '1X', '-1', 'M', ''];

  it('accepts exactly what parseBytes accepts', () => {
    const pattern = new RegExp(SIZE_PATTERN);
    for (const text of sizes) expect([text, pattern.test(text)]).toEqual([text, true]);
    for (const text of refused) expect([text, pattern.test(text)]).toEqual([text, false]);
  });

  it('with percent, also accepts a share', () => {
    const pattern = new RegExp(SIZE_OR_PERCENT_PATTERN);
    for (const text of [...sizes, '75%']) expect([text, pattern.test(text)]).toEqual([text, true]);
    for (const text of refused.filter((text) => text !== '50%'))
      expect([text, pattern.test(text)]).toEqual([text, false]);
  });
});

describe(formatBytes, () => {
  it.each([
    [812, '812 B'],
    [12, '12 B'],
    [1536, '1.5 KiB'],
    [65_536, '64 KiB'],
    [268_435_456, '256 MiB'],
    [1_610_612_736, '1.5 GiB'],
    [-2_097_152, '-2 MiB'],
    [1024 * 1024 - 10, '1 MiB'],
    [Infinity, 'unlimited'],
  ])('formats %p as %p', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });

  it('writes exact multiples so that parseBytes reads them back', () => {
    for (const bytes of [0, 812, 64 * KiB, 256 * MiB, 1.5 * GiB, 2 ** 40]) {
      expect(parseBytes(formatBytes(bytes))).toBe(bytes);
    }
  });
});
