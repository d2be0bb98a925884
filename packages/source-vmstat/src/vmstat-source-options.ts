import { durationOption, z } from '@memshed/options';

/** Options of the `vmstat` source. */
export const vmstatSourceOptionsSchema = z.strictObject({
  /** A cgroup v2 group (`self`, or a path below the v2 mount) whose memory.stat to read. Default: /proc/vmstat. */
  cgroup: z.string().min(1).optional(),
  /**
   * Time between reads: a duration (`'250ms'`, or milliseconds), from 10ms to 1m. Each read feeds
   * the deltas to the engine's 512-page window. Default 250ms.
   */
  interval: durationOption
    .refine((ms) => ms >= 10 && ms <= 60_000, { message: 'must be from 10ms to 1m' })
    .default(250),
  /** Signal critical when the OOM-kill counter goes up. */
  oomKill: z.boolean().default(true),
  /** Filesystem root, for fixture trees in tests. */
  root: z.string().default('/'),
});

/** Validated options of the `vmstat` source. */
export type VmstatSourceOptions = z.output<typeof vmstatSourceOptionsSchema>;
