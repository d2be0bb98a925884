import { validateOptions, type OptionsSchema } from '../plugin';

/**
 * The options `schema` makes of `input` (defaults filled in), as a plugin's factory receives them;
 * throws, listing the issues, when `input` is invalid, so a test's own typo fails loudly.
 *
 * @example
 * const options = (input: GcOptionsInput = {}) => validOptions(gcOptionsSchema, input);
 */
export function validOptions<T>(schema: OptionsSchema<T>, input: unknown): T {
  const result = validateOptions(schema, input);
  if (!result.ok) throw new Error(JSON.stringify(result.issues));
  return result.value;
}

/**
 * The key path of the first issue `schema` finds in `input` (`''` for the top level), or
 * `undefined` when `input` is valid: what a test of a refused option asserts on.
 *
 * @example
 * expect(firstIssuePath(gcOptionsSchema, { sweep: 'lazy' })).toBe('sweep');
 */
export function firstIssuePath(schema: OptionsSchema<unknown>, input: unknown): string | undefined {
  const result = validateOptions(schema, input);
  return result.ok ? undefined : result.issues[0].path;
}
