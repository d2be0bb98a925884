import { levelIndex, type PressureLevel } from '@memshed/core';
import { z } from '@memshed/options';

/** A usage threshold as configured: bytes, or a percentage of the cgroup's memory limit. */
export type UsageThreshold = { readonly bytes: number } | { readonly percent: number };

const LEVELS = ['low', 'medium', 'critical'] as const;

const SIZE = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(i?B?)$/i;
const PERCENT = /^(\d+(?:\.\d+)?)\s*%$/;
const UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/**
 * Parses `usageThreshold`: a number of bytes, a size string with binary units (`'512M'`,
 * `'1.5GiB'`, `'65536'`) or a percentage of the limit (`'80%'`). Undefined when invalid.
 */
export function parseUsageThreshold(value: number | string): UsageThreshold | undefined {
  if (typeof value === 'number')
    return Number.isSafeInteger(value) && value > 0 ? { bytes: value } : undefined;
  const percent = PERCENT.exec(value.trim());
  if (percent) {
    const p = Number(percent[1]);
    return p > 0 && p < 100 ? { percent: p } : undefined;
  }
  const size = SIZE.exec(value.trim());
  if (!size) return undefined;
  const bytes = Math.floor(Number(size[1]) * UNITS[size[2].toUpperCase()]);
  return Number.isSafeInteger(bytes) && bytes > 0 ? { bytes } : undefined;
}

/**
 * Options of the `cgroup-v1` source (`with:` in config). Unknown keys are rejected.
 *
 * - `cgroup`: `self` (this process's memory cgroup, from /proc/self/cgroup) or a cgroup path below
 *   the mount (`/app/workers`; a full `/sys/fs/cgroup/memory/...` path is accepted too).
 * - `levels`: which of `low`, `medium`, `critical` to register (one eventfd each). Default all.
 * - `mode`: the kernel's propagation mode, `default` | `hierarchy` | `local`. Default `default`.
 * - `oom`: also watch `memory.oom_control` (an OOM in the cgroup signals critical). Default true.
 * - `usageThreshold`: also watch `memory.usage_in_bytes` crossing this many bytes (`'200M'`, a
 *   number) or this share of the limit (`'80%'`). Default: off.
 * - `usageLevel`: the level signalled when usage rises past `usageThreshold`. Default `medium`.
 * - `minIntervalMs`: the shortest time between two deliveries during a storm of kernel events
 *   (the first event after a quiet period is delivered at once). Default 20; 0 = every turn.
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
  usageThreshold: z
    .union([z.number(), z.string()])
    .transform((value, context) => {
      const parsed = parseUsageThreshold(value);
      if (parsed === undefined) {
        context.addIssue({
          code: 'custom',
          message: "expected a positive number of bytes, a size such as '256M' or a percentage such as '80%'",
        });
        return z.NEVER;
      }
      return parsed;
    })
    .optional(),
  usageLevel: z.enum(LEVELS).default('medium'),
  minIntervalMs: z.number().min(0).max(1000).default(20),
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
