import {
  DURATION_OR_NEVER_PATTERN,
  DURATION_PATTERN,
  MemshedError,
  SIZE_OR_PERCENT_PATTERN,
  SIZE_PATTERN,
  parseBytes,
  parseBytesOrPercent,
  parseDuration,
  parseDurationOrNever,
  parseRate,
  type BytesOrPercent,
} from '@memshed/core';
import * as z from './zod';

/** zod's builders for option schemas: the one-file subset of ./zod.ts (why: see there). */
export { z };

/**
 * A value as an error message names it: a string quoted (and shortened), a list, an object,
 * nothing. Shared by the messages of option, config and policy schemas.
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** What a unit option reads: a size, a size or a share of a limit, a rate, or a duration. */
export type UnitKind = 'bytes' | 'bytes-or-percent' | 'rate' | 'duration' | 'duration-or-never';

/**
 * The marker every unit option carries (zod metadata under `memshedUnit`), so that tools find the
 * size and duration fields of any schema without a list: the JSON Schema writes `pattern` and
 * `examples` for them, and a test walks every plugin's options with the same spellings.
 */
export interface UnitMarker {
  /** What the option reads. */
  readonly unit: UnitKind;
  /** A regular expression (source text) matching every spelling the option accepts as text. */
  readonly pattern: string;
  /** Spellings to show in the JSON Schema and docs. */
  readonly examples: readonly string[];
  /** What the option takes, for the JSON Schema, when it is more than its kind's grammar. */
  readonly help?: string;
}

const MARKER_KEY = 'memshedUnit';
/** The zod metadata key of the marker of {@link orFalse}: the schema of the part it may turn off. */
const PART_KEY = 'memshedPart';

/**
 * The zod metadata keys of the markers above. zod copies metadata into the JSON Schemas it writes;
 * these are not JSON Schema keywords, so writers of JSON Schemas remove them.
 */
export const MARKER_KEYS: readonly string[] = Object.freeze([MARKER_KEY, PART_KEY]);

/**
 * A zod schema that accepts a number or a text and converts it with `parse`, turning a thrown
 * MemshedError into a validation issue with its message (so config errors keep the key path).
 * `what` names the expected value in the message for a missing or non-text value, e.g.
 * `a duration such as '5s'`.
 */
export function parsedOption<T>(parse: (value: number | string) => T, what = 'a number or a text') {
  return z.custom<number | string>().transform((value, context) => {
    if (typeof value !== 'number' && typeof value !== 'string') {
      context.issues.push({
        code: 'custom',
        input: value,
        message: value === undefined ? `required: ${what}` : `expected ${what}, got ${describeValue(value)}`,
      });
      return z.NEVER;
    }
    try {
      return parse(value);
    } catch (error) {
      context.issues.push({
        code: 'custom',
        input: value,
        message: MemshedError.is(error) ? error.message : String(error),
      });
      return z.NEVER;
    }
  });
}

const NOUNS: Readonly<Record<UnitKind, string>> = {
  bytes: 'a size',
  'bytes-or-percent': 'a size or a share of the limit',
  rate: 'a rate',
  duration: 'a duration',
  'duration-or-never': "a duration or 'never'",
};

/**
 * As {@link parsedOption}, marked as a unit option (see {@link UnitMarker}): the way to build an
 * option on a grammar of its own that extends one of memshed's (such as a threshold with `free`).
 */
export function unitOption<T>(marker: UnitMarker, parse: (value: number | string) => T) {
  const examples = marker.examples.slice(0, 4).map((example) => `'${example}'`);
  const last = examples.pop();
  const what = `${NOUNS[marker.unit]} such as ${examples.length ? `${examples.join(', ')} or ${last}` : last}`;
  return parsedOption(parse, what).meta({ [MARKER_KEY]: marker });
}

/** The unit marker of `schema` (kept through `.refine()`), or undefined for any other schema. */
export function unitOf(schema: unknown): UnitMarker | undefined {
  const meta = metaOf(schema);
  return meta?.[MARKER_KEY] as UnitMarker | undefined;
}

/** The schema of the part an {@link orFalse} schema may turn off, or undefined for others. */
export function partOf(schema: unknown): z.ZodType | undefined {
  return metaOf(schema)?.[PART_KEY] as z.ZodType | undefined;
}

function metaOf(schema: unknown): Record<string, unknown> | undefined {
  const meta = (schema as { meta?: () => unknown } | undefined)?.meta;
  return typeof meta === 'function' ? (meta.call(schema) as Record<string, unknown> | undefined) : undefined;
}

/**
 * A duration option: a number of milliseconds, or text such as `500ms`, `5s`, `2m`, `1h`, `5000`
 * (core's `parseDuration`). Output: milliseconds.
 */
export const durationOption = unitOption(
  { unit: 'duration', pattern: DURATION_PATTERN, examples: ['500ms', '5s', '2m', '5000'] },
  parseDuration,
);

/** As {@link durationOption}, also taking `never` (Infinity), for options documented to. */
export const durationOrNeverOption = unitOption(
  { unit: 'duration-or-never', pattern: DURATION_OR_NEVER_PATTERN, examples: ['500ms', '5s', '2m', 'never'] },
  parseDurationOrNever,
);

/**
 * A size option: a number of bytes, or text such as `512M`, `512Mi`, `512MiB`, `1.5GiB` (core's
 * `parseBytes`: powers of 1024; `512MB` is refused as ambiguous, `50%` as not a size). Output: bytes.
 */
export const bytesOption = unitOption(
  { unit: 'bytes', pattern: SIZE_PATTERN, examples: ['512M', '512Mi', '512MiB', '1.5GiB', '524288000'] },
  parseBytes,
);

/**
 * An option documented to take a size ({@link bytesOption}) or a share of a limit such as `'75%'`.
 * Output: `{ bytes }` or `{ percent }` (above 0, at most 100).
 */
export const bytesOrPercentOption = unitOption<BytesOrPercent>(
  { unit: 'bytes-or-percent', pattern: SIZE_OR_PERCENT_PATTERN, examples: ['75%', '512M', '512MiB'] },
  parseBytesOrPercent,
);

/** A rate option: a size per second (`'2MiB/s'`), or bytes per second. Output: bytes per second. */
export const rateOption = unitOption(
  {
    unit: 'rate',
    pattern: `^${SIZE_PATTERN.slice(1, -1)}/(?:s|m|h)\\s*$`,
    examples: ['2MiB/s', '512K/s', '30MiB/m'],
  },
  parseRate,
);

/**
 * `false`, or options of `schema` (`{}` gives its defaults): a part of a plugin that can be turned
 * off. Written by hand rather than as a union so that a mistake inside the object is reported at its
 * own key path, not as "Invalid input"; marked (see {@link partOf}) so that tools can see inside.
 */
export function orFalse<S extends z.ZodType<object>>(
  schema: S,
  fallback: false | z.input<S> = {} as z.input<S>,
) {
  return z
    .custom<false | z.input<S>>()
    .transform((value, context): false | z.output<S> => {
      if (value === false) return false;
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      for (const issue of result.error.issues) context.addIssue({ ...issue, code: 'custom' } as never);
      return z.NEVER;
    })
    .prefault(fallback as never)
    .meta({ [PART_KEY]: schema });
}
