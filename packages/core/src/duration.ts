import { MemshedError } from './errors';

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;

/**
 * Parses a duration as written in config and on the command line: `500ms`, `5s`, `2m`, `1h`, or
 * a plain number of milliseconds. Returns milliseconds.
 *
 * @throws MemshedError `invalid-argument` naming the accepted forms.
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
  } else {
    const match = PATTERN.exec(value);
    if (match) return Math.round(Number(match[1]) * UNITS[match[2]]);
  }
  throw new MemshedError('invalid-argument', `Invalid duration '${String(value)}'`, {
    fix: "write a number with a unit: '500ms', '5s', '2m' or '1h'",
  });
}

/** Formats milliseconds the way {@link parseDuration} reads them back: `1.5s`, `250ms`, `2m`. */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${ms}ms`;
}
