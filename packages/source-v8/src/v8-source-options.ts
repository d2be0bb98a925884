import { timeToLimitOption } from '@memshed/growth-trend';
import { bytesOption, durationOption as duration, z } from '@memshed/options';

/** A fraction of the heap limit: `0.6` or `'60%'`, above 0 and at most 1. */
const fraction = z.union([z.number(), z.string()]).transform((value, context) => {
  const parsed = typeof value === 'number' ? value : parsePercent(value);
  if (parsed === undefined) {
    context.addIssue({
      code: 'custom',
      message: `'${String(value)}' is not a fraction: write a percentage such as '60%', or a fraction such as 0.6`,
    });
    return z.NEVER;
  }
  if (!(parsed > 0 && parsed <= 1)) {
    context.addIssue({ code: 'custom', message: `${String(value)} must be above 0% and at most 100%` });
    return z.NEVER;
  }
  return parsed;
});

function parsePercent(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
  return match ? Number(match[1]) / 100 : undefined;
}

/**
 * Options of the `v8` source (`with:` in config). Fractions are of `heap_size_limit` and may be
 * written `0.6` or `'60%'`.
 */
export const v8SourceOptionsSchema = z
  .strictObject({
    /** The engine node the heap's pressure is reported on. Default `/v8`. */
    scope: z.string().startsWith('/', 'must be an absolute node path such as /v8').default('/v8'),
    /**
     * Committed heap (`total_heap_size`) against `heap_size_limit` from which `medium` is signalled.
     * Default 60% (the warning it gives before a heap-OOM crash is measured in docs/sources/v8.md).
     */
    medium: fraction.default(0.6),
    /** Committed heap from which `critical` is signalled. Default 80%. */
    critical: fraction.default(0.8),
    /** Committed heap from which `low` is signalled. Off by default (collections then say low). */
    low: fraction.optional(),
    /**
     * Collections are accounted as reclaim passes (`account(examined, freed)`) once the committed
     * heap has reached this fraction of the limit; below it the heap is growing freely and a
     * collection that keeps most of what it examines is not a shortage. `false`: headroom only.
     * Default 50%.
     */
    efficiencyFrom: z.union([z.literal(false), fraction]).default(0.5),
    /**
     * Judge external memory (Buffers, ArrayBuffers) against this size (`'256MiB'`, or bytes) with
     * the same fractions. Off by default.
     */
    externalLimit: bytesOption
      .refine((bytes) => bytes > 0, { message: 'must be more than 0 bytes' })
      .optional(),
    /**
     * How often a headroom level that has not changed is signalled again (a higher level is
     * signalled at once). Default 1s.
     */
    repeat: duration.default(1000),
    /**
     * The GC profiler's window: collections are handed over at most once per window (they are all
     * recorded; this bounds the cost of reading them, and adds at most this much delay). Default 100ms.
     */
    window: duration.default(100),
    /** `auto` picks `gc-profiler` where `v8.GCProfiler` exists, else `heap-statistics` (headroom only). */
    recorder: z.enum(['auto', 'gc-profiler', 'heap-statistics']).default('auto'),
    /**
     * Time to limit: how fast the committed heap grows and when, at that rate, it reaches
     * `heap_size_limit`; `medium` when less than 3s away, `critical` under 1s by default, whichever of
     * this and the fractions is higher is signalled. From 50% of the limit the heap statistics are
     * also read every 100ms (between collections). `false`: off.
     */
    timeToLimit: timeToLimitOption,
  })
  .superRefine((options, context) => {
    if (options.medium >= options.critical) {
      context.addIssue({ code: 'custom', path: ['medium'], message: 'medium must be below critical' });
    }
    if (options.low !== undefined && options.low >= options.medium) {
      context.addIssue({ code: 'custom', path: ['low'], message: 'low must be below medium' });
    }
  });

/** Options of the `v8` source, defaults applied. */
export type V8SourceOptions = z.output<typeof v8SourceOptionsSchema>;
/** Options of the `v8` source as written in config. */
export type V8SourceOptionsInput = z.input<typeof v8SourceOptionsSchema>;
