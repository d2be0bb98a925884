import { durationOption as duration, bytesOption as bytes, z } from '@memshed/options';

/**
 * Options of the gc action (`with:` in config).
 *
 * Defaults: V8 sweeps synchronously during the collections (where it can: see
 * synchronous-sweeping.ts); one full collection then (two when sweeping stays concurrent: one
 * leaves freed Buffers with V8's background sweeper), more while the last one still found at least
 * 1 MiB of new garbage in the V8 heap, at most four; then glibc's `malloc_trim(0)`; per container,
 * never sooner than 100 ms after the last run, and forced collections taking at most half of the
 * time (after a run of 80 ms, the next collects 160 ms after it started at the earliest).
 */
export const gcOptionsSchema = z
  .strictObject({
    /**
     * Full collections always run. Default: 1 when sweeping is synchronous (the collection then
     * frees what it found itself), 2 when it is concurrent (the second completes the first's).
     */
    minCollections: z.int().min(1).max(10).optional(),
    /**
     * `synchronous`: V8 sweeps and unmaps the pages it emptied during the collections, on the
     * JavaScript thread, so the memory is back with the kernel when the action ends (falls back to
     * concurrent, with the reason in the result, where flags cannot change). `concurrent`: V8's
     * background threads do it, later. Default synchronous.
     */
    sweep: z.enum(['synchronous', 'concurrent']).default('synchronous'),
    /** Full collections at most. Default 4. */
    maxCollections: z.int().min(1).max(10).default(4),
    /**
     * Another collection runs (up to the maximum) while the last one freed at least this much of
     * the V8 heap: new garbage may hold Buffers whose memory only the next collection sweeps.
     * Default 1M.
     */
    settleBytes: bytes.default(1024 * 1024),
    /** Call glibc's malloc_trim(0) after collecting, where available. Default true. */
    trim: z.boolean().default(true),
    /**
     * Skip a run that comes sooner than this after the last one started (GC is process-wide: the
     * gc actions of a container share the limit). Default 100ms.
     */
    minInterval: duration.default(100),
    /**
     * The share of the time forced collections may take: a run is skipped while the last one's
     * duration is more than this share of the time since it started (a 50 ms run and 0.5: none
     * for 100 ms). It bounds the pause the service sees in proportion, whatever the growth: a
     * fixed interval long enough for a large heap lets a fast-growing cache pile up purged garbage
     * that only a collection gives back (250 MiB/s for 1 s fills a 256M container). Half, as the
     * policy runner's gap gives a chain: a service growing at 250 MiB/s in 256M needs a purge and
     * a collection about every 250 ms, and one collection of its heap takes 90-170 ms on Node 26
     * (with a quarter, usage went back to critical and requests were shed). 1: a run may follow
     * the last one as soon as it ended. Default 0.5.
     */
    maxTimeShare: z.number().gt(0).max(1).default(0.5),
    /**
     * A run the limits above stop waits for them when they open within this long (the purge before
     * it has just made garbage that only a collection gives back), and is skipped otherwise.
     * 0: always skipped. Default 1s.
     */
    maxWait: duration.default(1000),
    /**
     * Whose usage to record: `self` (this process's memory cgroup), `none`, or a cgroup directory
     * (absolute path). Default `self`.
     */
    cgroup: z.union([z.literal('self'), z.literal('none'), z.string().startsWith('/')]).default('self'),
  })
  .refine(
    (options) => options.minCollections === undefined || options.minCollections <= options.maxCollections,
    {
      message: 'minCollections must not exceed maxCollections',
      path: ['minCollections'],
    },
  );

/** Validated options of the gc action, defaults applied. */
export type GcOptions = z.output<typeof gcOptionsSchema>;
/** Options of the gc action as written in config. */
export type GcOptionsInput = z.input<typeof gcOptionsSchema>;
