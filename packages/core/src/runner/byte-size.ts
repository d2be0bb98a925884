import { MemshedError } from '../errors';

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
};
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b)?)\s*$/i;

/**
 * Parses a size as written in config: a number of bytes, or a number with a binary unit as the
 * kernel's memory files take them: `512`, `64K`, `256M`, `1.5G`, `64MiB`, `64MB` (K, M, G and T
 * are powers of 1024 in every spelling). Returns bytes, rounded to an integer.
 *
 * @throws MemshedError `invalid-argument` naming the accepted forms.
 */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
  } else {
    const match = PATTERN.exec(value);
    if (match) return Math.round(Number(match[1]) * UNITS[(match[2] ?? match[3] ?? '').toLowerCase()]);
  }
  throw new MemshedError('invalid-argument', `Invalid size '${String(value)}'`, {
    fix: "write a number of bytes, or a number with a unit: '512K', '64M', '1G' (powers of 1024)",
  });
}

/** Formats bytes for people: `812 B`, `64.0 KiB`, `256.0 MiB`, `1.50 GiB`. */
export function formatBytes(bytes: number): string {
  const sign = bytes < 0 ? '-' : '';
  const abs = Math.abs(bytes);
  if (abs < 1024) return `${sign}${abs} B`;
  if (abs < 2 ** 20) return `${sign}${(abs / 2 ** 10).toFixed(1)} KiB`;
  if (abs < 2 ** 30) return `${sign}${(abs / 2 ** 20).toFixed(1)} MiB`;
  return `${sign}${(abs / 2 ** 30).toFixed(2)} GiB`;
}
