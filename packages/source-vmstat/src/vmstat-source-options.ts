import { z } from '@memshed/options';

/** Options of the `vmstat` source. */
export const vmstatSourceOptionsSchema = z.strictObject({
  /** A cgroup v2 group (`self`, or a path below the v2 mount) whose memory.stat to read. Default: /proc/vmstat. */
  cgroup: z.string().min(1).optional(),
  /** Milliseconds between reads. Each read feeds the deltas to the engine's 512-page window. */
  interval: z.number().int().min(10).max(60_000).default(250),
  /** Signal critical when the OOM-kill counter goes up. */
  oomKill: z.boolean().default(true),
  /** Filesystem root, for fixture trees in tests. */
  root: z.string().default('/'),
});

/** Validated options of the `vmstat` source. */
export type VmstatSourceOptions = z.output<typeof vmstatSourceOptionsSchema>;
