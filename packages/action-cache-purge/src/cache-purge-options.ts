import { SHED_PRIORITIES, type ShedPriority } from '@memshed/shed-priority';
import { durationOption as duration, bytesOption as bytes, z } from '@memshed/options';

const priority = z.enum(SHED_PRIORITIES as [ShedPriority, ...ShedPriority[]]);
const fraction = z.number().min(0).max(1);

function rule(defaults: { fraction: number; upTo: ShedPriority }) {
  return z
    .strictObject({
      /** Fraction of each selected cache to drop, coldest first (1 = clear). */
      fraction: fraction.default(defaults.fraction),
      /** Select caches of this priority and below. */
      upTo: priority.default(defaults.upTo),
    })
    .prefault({});
}

/**
 * Options of the cache-purge action (`with:` in config). Per level, which caches are purged and
 * how much; `fraction` and `upTo` at the top override every level.
 *
 * Defaults: low purges nothing; medium trims the coldest entries holding 50% of the bytes (of the
 * entries where sizes are unknown) of caches of priority `low` and
 * below; critical clears every cache not marked `keep`.
 */
export const cachePurgeOptionsSchema = z.strictObject({
  /** Overrides the level rules' fraction. */
  fraction: fraction.optional(),
  /** Overrides the level rules' priority limit. */
  upTo: priority.optional(),
  /** Only caches with one of these tags (empty: every cache). */
  tags: z.array(z.string().min(1)).default([]),
  /** What to purge at each level. */
  levels: z
    .strictObject({
      low: rule({ fraction: 0, upTo: 'background' }),
      medium: rule({ fraction: 0.5, upTo: 'low' }),
      critical: rule({ fraction: 1, upTo: 'high' }),
    })
    .prefault({}),
  /** How long a write-back cache's flush may take before its dirty entries are kept. Default 2s. */
  flushTimeout: duration.default(2000),
  /**
   * Stop once this many bytes were dropped: later caches are left alone and the chain stops
   * (outcome `stop`), as enough was freed. Default: purge everything selected, and continue.
   */
  enough: bytes.optional(),
  /**
   * Measure the bytes freed with garbage collections before and after (costs two or three full
   * GCs) instead of estimating them from sizes. Default false.
   */
  measure: z.boolean().default(false),
});

/** Validated options of the cache-purge action, defaults applied. */
export type CachePurgeOptions = z.output<typeof cachePurgeOptionsSchema>;
/** Options of the cache-purge action as written in config. */
export type CachePurgeOptionsInput = z.input<typeof cachePurgeOptionsSchema>;
