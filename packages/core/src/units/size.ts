import { MemshedError } from '../errors';
import { didYouMean } from '../suggest';

/**
 * The one size grammar of memshed (config, plugin options, scenarios, CLI flags):
 * - a number, or digits, is bytes; `B` is bytes too;
 * - `K`, `M`, `G`, `T` (or k, m, g, t, as Docker and systemd read them), `Ki`..`Ti` (Kubernetes) and
 *   `KiB`..`TiB` are powers of 1024;
 * - `KB`, `MB`, `GB`, `TB` are refused: tools disagree on whether they are powers of 1000 or 1024,
 *   and a memory limit off by 5% is a bug nobody sees until the OOM killer does;
 * - decimals are allowed (`1.5GiB`); the result is rounded down to whole bytes.
 */
const BINARY: Readonly<Record<string, number>> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
const SI_NAMES: Readonly<Record<string, string>> = {
  k: 'kilobytes',
  m: 'megabytes',
  g: 'gigabytes',
  t: 'terabytes',
};
const POWERS: Readonly<Record<string, number>> = { k: 10, m: 20, g: 30, t: 40 };
const SIZE = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/;
const PERCENT = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/;
/** The spellings offered when a unit is not recognised. */
const KNOWN_UNITS = ['B', 'K', 'M', 'G', 'T', 'Ki', 'Mi', 'Gi', 'Ti', 'KiB', 'MiB', 'GiB', 'TiB'];
const SIZE_FIX =
  "write a number of bytes, or a number with a binary unit: '512K', '64M', '64Mi', '64MiB', '1.5GiB'";

/** A size, or a share of a limit, as an option documented to take either reads it. */
export type BytesOrPercent = { readonly bytes: number } | { readonly percent: number };

/**
 * A regular expression (source text) matching every size spelling {@link parseBytes} may accept,
 * for JSON Schema `pattern`s: editors then flag what memshed would refuse (including `512MB`).
 */
export const SIZE_PATTERN = '^\\s*\\d+(?:\\.\\d+)?\\s*(?:[KMGTkmgt](?:[iI][bB]?)?|[bB])?\\s*$';

/** As {@link SIZE_PATTERN}, also accepting a share of a limit such as `75%`. */
export const SIZE_OR_PERCENT_PATTERN = '^\\s*\\d+(?:\\.\\d+)?\\s*(?:[KMGTkmgt](?:[iI][bB]?)?|[bB]|%)?\\s*$';

function invalidSize(value: unknown, extra?: string): MemshedError {
  return new MemshedError('invalid-argument', `Invalid size '${String(value)}'${extra ? `: ${extra}` : ''}`, {
    fix: SIZE_FIX,
  });
}

/** Bytes per unit, or undefined when `unit` is not one; throws for the refused SI spellings. */
function unitFactor(text: string, amount: string, unit: string): number | undefined {
  if (unit === '' || unit === 'B' || unit === 'b') return 1;
  const lower = unit.toLowerCase();
  if (lower.length === 1 && lower in BINARY) return BINARY[lower];
  if (/^[kmgt]i(?:b)?$/.test(lower)) return BINARY[lower[0]];
  if (/^[kmgt]b$/.test(lower)) {
    const prefix = lower[0];
    const si = Math.floor(Number(amount) * 10 ** ((POWERS[prefix] / 10) * 3));
    const binary = `${prefix.toUpperCase()}iB`;
    throw new MemshedError(
      'invalid-argument',
      `'${text.trim()}' is ambiguous: write ${amount}${binary} (or ${amount}${prefix.toUpperCase()}) for 2^${POWERS[prefix]}-byte ${SI_NAMES[prefix]}, or ${si} for SI`,
    );
  }
  return undefined;
}

/**
 * Parses a size as written in config, options, scenarios and flags (the grammar above): `512`,
 * `'512'`, `'64K'`, `'256M'`, `'256Mi'`, `'256MiB'`, `'1.5G'`. Returns whole bytes (rounded down).
 *
 * @throws MemshedError `invalid-argument`: for `512MB` and the other SI spellings with what to
 * write instead; for `50%` (a share of a limit, only options documented to take one accept it, see
 * {@link parseBytesOrPercent}); for anything else with the accepted forms.
 */
export function parseBytes(value: string | number): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.floor(value);
    throw invalidSize(value);
  }
  if (typeof value !== 'string') throw invalidSize(value);
  if (PERCENT.test(value)) {
    throw new MemshedError(
      'invalid-argument',
      `'${value.trim()}' is a share of a limit, which this option does not take`,
      { fix: "write a size such as '512MiB', or a number of bytes" },
    );
  }
  const match = SIZE.exec(value);
  if (!match) throw invalidSize(value);
  const factor = unitFactor(value, match[1], match[2]);
  if (factor === undefined) {
    // A one-letter unit is one edit from every unit: suggesting one would be a guess.
    const suggestion = match[2].length > 1 ? didYouMean(match[2], KNOWN_UNITS) : undefined;
    throw invalidSize(
      value,
      `unknown unit '${match[2]}'${suggestion ? ` (did you mean '${match[1]}${suggestion}'?)` : ''}`,
    );
  }
  return Math.floor(Number(match[1]) * factor);
}

/**
 * Parses an option documented to take either a size ({@link parseBytes}) or a share of a limit:
 * `'75%'` gives `{ percent: 75 }` (above 0, at most 100), anything else `{ bytes }`.
 *
 * @throws MemshedError `invalid-argument` as {@link parseBytes}, or for a share outside (0, 100].
 */
export function parseBytesOrPercent(value: string | number): BytesOrPercent {
  const percent = typeof value === 'string' ? PERCENT.exec(value) : null;
  if (!percent) return { bytes: parseBytes(value) };
  const amount = Number(percent[1]);
  if (amount > 0 && amount <= 100) return { percent: amount };
  throw new MemshedError('invalid-argument', `Invalid share '${String(value).trim()}'`, {
    fix: "write a share of the limit above 0% and at most 100%, such as '75%'",
  });
}

const PER: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600 };

/**
 * Parses a rate: a size followed by `/s` (`'2MiB/s'`; `/m` and `/h` divide by 60 and 3600), or a
 * number of bytes per second. Returns bytes per second (not rounded: `1MiB/m` is 17476.27 B/s).
 *
 * @throws MemshedError `invalid-argument` as {@link parseBytes}, or for a missing or unknown `/unit`.
 */
export function parseRate(value: string | number): number {
  if (typeof value === 'number') return parseBytes(value);
  const slash = value.lastIndexOf('/');
  const per = slash < 0 ? undefined : PER[value.slice(slash + 1).trim()];
  if (per === undefined) {
    throw new MemshedError('invalid-argument', `Invalid rate '${value}'`, {
      fix: "write a size per second such as '2MiB/s' (or per minute, '30MiB/m'), or a number of bytes per second",
    });
  }
  return parseBytes(value.slice(0, slash)) / per;
}

const FORMAT_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * Formats bytes for people, the one style memshed shows sizes in: the largest binary unit with a
 * value of at least 1, at most one decimal (`812 B`, `64 KiB`, `256 MiB`, `1.5 GiB`, `-2 MiB`), and
 * `unlimited` for Infinity. {@link parseBytes} reads exact multiples back.
 */
export function formatBytes(bytes: number): string {
  if (Number.isNaN(bytes)) return 'unknown';
  if (!Number.isFinite(bytes)) return bytes > 0 ? 'unlimited' : '-unlimited';
  const sign = bytes < 0 ? '-' : '';
  let value = Math.abs(bytes);
  let unit = 0;
  while (value >= 1024 && unit < FORMAT_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  let rounded = unit === 0 ? Math.round(value) : Math.round(value * 10) / 10;
  // 1023.96 KiB rounds to 1024: show it as the next unit instead.
  if (rounded >= 1024 && unit < FORMAT_UNITS.length - 1) {
    rounded = 1;
    unit++;
  }
  return `${sign}${rounded} ${FORMAT_UNITS[unit]}`;
}
