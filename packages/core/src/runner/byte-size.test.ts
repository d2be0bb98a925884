import { MemshedError } from '../errors';
import { formatBytes, parseBytes } from './byte-size';

describe(parseBytes, () => {
  it.each([
    [512, 512],
    ['512', 512],
    ['512B', 512],
    ['64K', 65_536],
    ['64k', 65_536],
    ['64KiB', 65_536],
    ['64KB', 65_536],
    ['256M', 268_435_456],
    ['1.5G', 1_610_612_736],
    [' 2 MiB ', 2_097_152],
    ['1T', 2 ** 40],
  ])('reads %p as %p bytes', (input, bytes) => {
    expect(parseBytes(input)).toBe(bytes);
  });

  it.each([['-1'], ['1X'], ['M'], [''], [-5], [Number.NaN], [Infinity]])(
    'rejects %p with the accepted forms',
    (input) => {
      expect(() => parseBytes(input)).toThrow(MemshedError);
      expect(() => parseBytes(input)).toThrow(/'64M'/);
    },
  );
});

describe(formatBytes, () => {
  it.each([
    [812, '812 B'],
    [65_536, '64.0 KiB'],
    [268_435_456, '256.0 MiB'],
    [1_610_612_736, '1.50 GiB'],
    [-2_097_152, '-2.0 MiB'],
  ])('formats %p as %p', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
