import { durationOption, z } from '@memshed/options';
import { parseTrigger } from './psi-trigger';

const trigger = z
  .string()
  .refine(
    (text) => {
      try {
        parseTrigger(text);
        return true;
      } catch {
        return false;
      }
    },
    { message: "expected '<some|full> <stall> <window>', e.g. 'some 70ms 2s'" },
  )
  .nullable();

/**
 * Options of the `psi` source. Defaults are GLib's GMemoryMonitor thresholds over 2 s windows,
 * which the kernel accepts without CAP_SYS_RESOURCE. With the capability, Android lmkd's 1 s
 * thresholds react faster: `low: some 70ms 1s`, `medium: some 100ms 1s`, `critical: full 70ms 1s`.
 */
export const psiSourceOptionsSchema = z.strictObject({
  /** A cgroup v2 group (`self`, or a path below the v2 mount). Default: the whole machine. */
  cgroup: z.string().min(1).optional(),
  /** Follow systemd's $MEMORY_PRESSURE_WATCH / $MEMORY_PRESSURE_WRITE when they are set. */
  systemd: z.boolean().default(true),
  /** The level signalled for systemd's single trigger, FIFO or socket events. */
  systemdLevel: z.enum(['low', 'medium', 'critical']).default('medium'),
  /** One trigger per level; `null` disables a level. */
  triggers: z
    .strictObject({
      low: trigger.default('some 70ms 2s'),
      medium: trigger.default('some 100ms 2s'),
      critical: trigger.default('full 100ms 2s'),
    })
    .default({ low: 'some 70ms 2s', medium: 'some 100ms 2s', critical: 'full 100ms 2s' }),
  /** `auto`: triggers, falling back to polling where refused; `trigger` or `poll` to force one. */
  mode: z.enum(['auto', 'trigger', 'poll']).default('auto'),
  /** Polling interval of the fallback: a duration (`'1s'`, or milliseconds), at least 100ms. Default 1s. */
  pollInterval: durationOption.refine((ms) => ms >= 100, { message: 'must be at least 100ms' }).default(1000),
  /** GLib's confirmation: ignore events while more than this fraction of memory is available (e.g. 0.5). */
  ignoreAboveAvailable: z.number().min(0).max(1).optional(),
  /** Filesystem root, for fixture trees in tests. */
  root: z.string().default('/'),
});

/** Validated options of the `psi` source. */
export type PsiSourceOptions = z.output<typeof psiSourceOptionsSchema>;
