import { MemshedError, parseBytes, parseDuration } from '@memshed/core';
import * as z from './zod';

/** zod's builders for option schemas: the one-file subset of ./zod.ts (why: see there). */
export { z };

/**
 * A zod schema that accepts a number or a text and converts it with `parse`, turning a thrown
 * MemshedError into a validation issue with its message (so config errors keep the key path).
 */
export function parsedOption<T>(parse: (value: number | string) => T) {
  return z.union([z.number(), z.string()]).transform((value, context) => {
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

/** A duration option: milliseconds, or text such as `500ms`, `2s`, `1m`. Output: milliseconds. */
export const durationOption = parsedOption(parseDuration);

/** A size option: bytes, or text such as `64M`, `1G`, `512KiB` (powers of 1024). Output: bytes. */
export const bytesOption = parsedOption(parseBytes);
