import { MemshedError } from '../errors';
import { didYouMean } from '../suggest';

/**
 * The one duration grammar of memshed (config, plugin options, scenarios, CLI flags): a number, or
 * digits, is milliseconds; text is a number with a unit, `500ms`, `5s`, `2m`, `1h` (decimals
 * allowed: `1.5s`). The result is rounded to whole milliseconds.
 */
const UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/;
const DURATION_FIX = "write a number of milliseconds, or a number with a unit: '500ms', '5s', '2m' or '1h'";

/**
 * A regular expression (source text) matching every duration spelling {@link parseDuration}
 * accepts, for JSON Schema `pattern`s.
 */
export const DURATION_PATTERN = '^\\s*\\d+(?:\\.\\d+)?\\s*(?:ms|s|m|h)?\\s*$';

/** As {@link DURATION_PATTERN}, also accepting `never`. */
export const DURATION_OR_NEVER_PATTERN = '^(?:\\s*\\d+(?:\\.\\d+)?\\s*(?:ms|s|m|h)?\\s*|never)$';

function invalidDuration(value: unknown, extra?: string): MemshedError {
  return new MemshedError(
    'invalid-argument',
    `Invalid duration '${String(value)}'${extra ? `: ${extra}` : ''}`,
    { fix: DURATION_FIX },
  );
}

/**
 * Parses a duration: a number of milliseconds (`5000`, `'5000'`) or a number with a unit
 * (`'500ms'`, `'5s'`, `'1.5s'`, `'2m'`, `'1h'`). Returns whole milliseconds.
 *
 * @throws MemshedError `invalid-argument` naming the accepted forms (and the closest unit, for a
 * typo such as `5sx`).
 */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value);
    throw invalidDuration(value);
  }
  if (typeof value !== 'string') throw invalidDuration(value);
  const match = DURATION.exec(value);
  if (!match) throw invalidDuration(value);
  const factor = UNITS[match[2]];
  if (factor === undefined) {
    // A one-letter unit is one edit from every unit: suggesting one would be a guess.
    const suggestion = match[2].length > 1 ? didYouMean(match[2], ['ms', 's', 'm', 'h']) : undefined;
    throw invalidDuration(
      value,
      `unknown unit '${match[2]}'${suggestion ? ` (did you mean '${match[1]}${suggestion}'?)` : ''}`,
    );
  }
  return Math.round(Number(match[1]) * factor);
}

/**
 * As {@link parseDuration}, also reading `never` (Infinity), for the options documented to take it.
 *
 * @throws MemshedError `invalid-argument` as {@link parseDuration}.
 */
export function parseDurationOrNever(value: string | number): number {
  if (typeof value === 'string' && value.trim() === 'never') return Infinity;
  return parseDuration(value);
}

/**
 * Formats milliseconds the way {@link parseDuration} reads them back: `250ms`, `1.5s`, `2m`, and
 * `never` for Infinity.
 */
export function formatDuration(ms: number): string {
  if (ms === Infinity) return 'never';
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${ms}ms`;
}
