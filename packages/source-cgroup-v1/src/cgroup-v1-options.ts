import { levelIndex, type BytesOrPercent, type PressureLevel } from '@memshed/core';
import { bytesOrPercentOption, durationOption, z } from '@memshed/options';

/** A usage threshold as configured: bytes, or a percentage of the cgroup's memory limit. */
export type UsageThreshold = BytesOrPercent;

const LEVELS = ['low', 'medium', 'critical'] as const;

/**
 * Options of the `cgroup-v1` source (`with:` in config). Unknown keys are rejected.
 *
 * - `cgroup`: `self` (this process's memory cgroup, from /proc/self/cgroup) or a cgroup path below
 *   the mount (`/app/workers`; a full `/sys/fs/cgroup/memory/...` path is accepted too).
 * - `levels`: which of `low`, `medium`, `critical` to register (one eventfd each). Default all.
 * - `mode`: the kernel's propagation mode, `default` | `hierarchy` | `local`. Default `default`.
 * - `oom`: also watch `memory.oom_control` (an OOM in the cgroup signals critical). Default true.
 * - `usageThreshold`: also watch `memory.usage_in_bytes` crossing this size (`'200M'`, `'200MiB'`, a
 *   number of bytes) or this share of the limit (`'80%'`). Default: off.
 * - `usageLevel`: the level signalled when usage rises past `usageThreshold`. Default `medium`.
 * - `minIntervalMs`: the shortest time between two deliveries during a storm of kernel events
 *   (the first event after a quiet period is delivered at once): a duration, `'20ms'` or a number of
 *   milliseconds, at most 1s. Default 20; 0 = every turn.
 * - `mount`: where the v1 memory controller is mounted. Default: found in /proc/self/mountinfo,
 *   else /sys/fs/cgroup/memory.
 */
export const cgroupV1OptionsSchema = z.strictObject({
  cgroup: z
    .string()
    .refine((value) => value === 'self' || value.startsWith('/'), {
      message: "expected 'self' or an absolute cgroup path such as '/app'",
    })
    .default('self'),
  levels: z
    .array(z.enum(LEVELS))
    .min(1)
    .transform((levels) => [...new Set(levels)].sort(byLevel))
    .default(['low', 'medium', 'critical']),
  mode: z.enum(['default', 'hierarchy', 'local']).default('default'),
  oom: z.boolean().default(true),
  usageThreshold: bytesOrPercentOption
    .refine((threshold) => ('percent' in threshold ? threshold.percent < 100 : threshold.bytes > 0), {
      message: "expected a positive size such as '256M' or a share of the limit below 100% such as '80%'",
    })
    .optional(),
  usageLevel: z.enum(LEVELS).default('medium'),
  minIntervalMs: durationOption.refine((ms) => ms <= 1000, { message: 'must be at most 1s' }).default(20),
  mount: z
    .string()
    .refine((value) => value.startsWith('/'), { message: 'expected an absolute path' })
    .optional(),
});

/** The options as given in config (before defaults). */
export type CgroupV1OptionsInput = z.input<typeof cgroupV1OptionsSchema>;
/** The validated options, defaults applied: what {@link CgroupV1Source} takes. */
export type CgroupV1Options = z.output<typeof cgroupV1OptionsSchema>;

function byLevel(a: PressureLevel, b: PressureLevel): number {
  return levelIndex(a) - levelIndex(b);
}
