import { closeSync, openSync, writeFileSync } from 'node:fs';
import { MemshedError } from '@memshed/core';
import type { NativeWatcher } from '@memshed/native';

/** Creates an eventfd watched by the event loop (`@memshed/native`'s `watchEventfd`). */
export type EventfdFactory = (callback: (count: number) => void) => NativeWatcher;

/** Armed cgroup v1 usage thresholds: one eventfd per threshold. */
export interface UsageThresholds {
  /** The thresholds armed, in bytes, ascending. */
  readonly bytes: readonly number[];
  /**
   * Given the usage now, stops waking up on the thresholds it has reached and wakes up again on
   * those above it. The registrations stay (the kernel keeps counting on a paused eventfd). While
   * usage is at or above a threshold the source polls anyway, so crossing it back and forth says
   * nothing new, and a usage hovering around it would otherwise wake the process at the kernel's
   * rate; a threshold above usage still wakes it at once when crossed.
   */
  track(usage: number): void;
  /** Removes every registration (closing an eventfd removes it in the kernel). Idempotent. */
  close(): void;
}

/**
 * Arms cgroup v1 usage thresholds: for each threshold, an eventfd registered with
 * `"<eventfd> <fd of memory.usage_in_bytes> <bytes>"` on the group's `cgroup.event_control`. The
 * kernel signals it when usage crosses the threshold, upwards or downwards (it checks on charge
 * and uncharge events, every 128 pages per CPU), so nothing polls while usage stays on one side.
 * One eventfd per threshold, as lmkd does per level, so that registrations are independent.
 *
 * `onCross` runs on the event loop after a crossing; read the usage to know which side it is on.
 *
 * @throws MemshedError when an eventfd cannot be created or the kernel refuses a registration
 *   (kind `permission` for EACCES/EPERM, `unavailable` for ENOENT, `invalid-argument` otherwise);
 *   whatever was armed is released first.
 */
export function armUsageThresholds(
  files: { readonly usage: string; readonly eventControl: string },
  thresholds: readonly number[],
  onCross: () => void,
  watchEventfd: EventfdFactory,
): UsageThresholds {
  const bytes = [...new Set(thresholds.filter((b) => Number.isFinite(b) && b > 0).map(Math.round))].sort(
    (a, b) => a - b,
  );
  const watchers: NativeWatcher[] = [];
  let usageFd: number | undefined;
  const close = () => {
    for (const watcher of watchers) watcher.close();
    watchers.length = 0;
    if (usageFd !== undefined) closeSync(usageFd);
    usageFd = undefined;
  };
  try {
    // The kernel resolves the fd at registration; holding it open costs nothing and keeps the
    // registration's file from being reopened under us.
    usageFd = openSync(files.usage, 'r');
    for (const threshold of bytes) {
      const watcher = watchEventfd(() => onCross());
      watchers.push(watcher);
      writeFileSync(files.eventControl, `${watcher.fd} ${usageFd} ${threshold}`);
    }
  } catch (error) {
    close();
    throw registrationError(error, files.eventControl);
  }
  return {
    bytes,
    close,
    track(usage) {
      watchers.forEach((watcher, index) => (bytes[index] <= usage ? watcher.pause() : watcher.resume()));
    },
  };
}

function registrationError(error: unknown, file: string): MemshedError {
  if (MemshedError.is(error)) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const kind =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission'
      : code === 'ENOENT'
        ? 'unavailable'
        : 'invalid-argument';
  return MemshedError.from(error, kind, `Could not register a usage threshold on ${file}`, {
    fix:
      kind === 'permission'
        ? 'run with write access to the cgroup, or let the source poll (notify: poll)'
        : 'check that the cgroup still exists and has a v1 memory controller',
    context: { code, file },
  });
}
