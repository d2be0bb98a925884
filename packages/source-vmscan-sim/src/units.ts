import { MemshedError } from '@memshed/core';

/** The simulated page size: 4 KiB, as on x86-64 and most arm64 kernels. Every count in the model is pages. */
export const PAGE_SIZE = 4096;

const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};
const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/**
 * Parses a size as written in scenarios: `256MiB`, `64M` (binary, as cgroup files accept), `1.5GiB`,
 * `500MB` (decimal), `4096` or a plain number of bytes. Returns bytes, or undefined when it is not a
 * size.
 */
export function parseBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  const match = SIZE_PATTERN.exec(value);
  if (!match) return undefined;
  const unit = SIZE_UNITS[match[2].toLowerCase() || 'b'];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}

/**
 * Parses a rate: `2MiB/s`, `512KiB/s`, `30MiB/m`, or a plain number of bytes per second. Returns
 * bytes per second, or undefined when it is not a rate.
 */
export function parseRate(value: string | number): number | undefined {
  if (typeof value === 'number') return parseBytes(value);
  const slash = value.lastIndexOf('/');
  if (slash < 0) return undefined;
  const bytes = parseBytes(value.slice(0, slash));
  const per = { s: 1, m: 60, h: 3600 }[
    value
      .slice(slash + 1)
      .trim()
      .toLowerCase()
  ];
  return bytes === undefined || per === undefined ? undefined : bytes / per;
}

/** Bytes to whole pages, rounding up (a partial page still takes a page). */
export function bytesToPages(bytes: number): number {
  return Math.ceil(bytes / PAGE_SIZE);
}

/** Pages to MiB, for people. */
export function pagesToMiB(pages: number): number {
  return (pages * PAGE_SIZE) / 1024 ** 2;
}

/** `268435456` -> `256 MiB`, `1536` -> `1.5 KiB`: the largest binary unit with a value of at least 1. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toFixed(value >= 100 || unit === 0 ? 0 : 1))} ${units[unit]}`;
}

/** Throws the error every unit parser shares, for callers outside a schema. */
export function invalidUnit(what: string, value: unknown, example: string): MemshedError {
  return new MemshedError('invalid-argument', `Invalid ${what} ${JSON.stringify(value)}`, {
    fix: `write it like ${example}`,
  });
}
