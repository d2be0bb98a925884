import { MemshedError, parseDuration } from '@memshed/core';
import { parseThreshold } from '@memshed/source-system';
import { z } from '@memshed/options';

/** A duration: milliseconds, or text such as `500ms`, `1s`, `2m`. */
export const durationSchema = z.union([z.number(), z.string()]).transform((value, context) => {
  try {
    return parseDuration(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: MemshedError.is(error) ? error.message : String(error) });
    return z.NEVER;
  }
});

/**
 * A threshold, as the `system` source writes them: `'75%'` (of the limit), `'25% free'`, `'1.5GiB'`
 * (used), `'512MiB free'`, or a number of bytes.
 */
export const thresholdSchema = z.union([z.number(), z.string()]).transform((value, context) => {
  try {
    return parseThreshold(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: MemshedError.is(error) ? error.message : String(error) });
    return z.NEVER;
  }
});

/** A size: `2GiB`, `512M`, or a number of bytes. */
export const sizeSchema = thresholdSchema
  .refine((threshold) => threshold.kind === 'bytes' && !threshold.free, {
    message: "expected a size such as '2GiB' or '512MiB'",
  })
  .transform((threshold) => threshold.value);

/**
 * `false`, or options of `schema` (`{}` gives its defaults). Written by hand rather than as a union
 * so that a mistake inside the object is reported at its own key path, not as "Invalid input".
 */
export function orFalse<S extends z.ZodType<object>>(schema: S, fallback: false | z.input<S>) {
  return z
    .custom<false | z.input<S>>()
    .transform((value, context): false | z.output<S> => {
      if (value === false) return false;
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      for (const issue of result.error.issues) context.addIssue({ ...issue, code: 'custom' } as never);
      return z.NEVER;
    })
    .prefault(fallback as never);
}
