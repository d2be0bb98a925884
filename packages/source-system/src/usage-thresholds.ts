import { CgroupfsError, errnoKind, registerCgroupEvent } from '@memshed/cgroupfs';
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
 * Arms cgroup v1 usage thresholds on the group in `directory`: for each threshold, an eventfd
 * registered on memory.usage_in_bytes through cgroupfs's `registerCgroupEvent`. The kernel
 * signals it when usage crosses the threshold, upwards or downwards (it checks on charge and
 * uncharge events, every 128 pages per CPU), so nothing polls while usage stays on one side. One
 * eventfd per threshold, as lmkd does per level, so that registrations are independent.
 *
 * `onCross` runs on the event loop after a crossing; read the usage to know which side it is on.
 *
 * @throws MemshedError when an eventfd cannot be created or the kernel refuses a registration
 *   (kind `permission` for EACCES/EPERM, `unavailable` for ENOENT, `invalid-argument` otherwise);
 *   whatever was armed is released first.
 */
export function armUsageThresholds(
  directory: string,
  thresholds: readonly number[],
  onCross: () => void,
  watchEventfd: EventfdFactory,
): UsageThresholds {
  const bytes = [...new Set(thresholds.filter((b) => Number.isFinite(b) && b > 0).map(Math.round))].sort(
    (a, b) => a - b,
  );
  const watchers: NativeWatcher[] = [];
  const close = () => {
    for (const watcher of watchers) watcher.close();
    watchers.length = 0;
  };
  try {
    for (const threshold of bytes) {
      watchers.push(
        registerCgroupEvent(directory, { kind: 'usage', bytes: threshold }, watchEventfd, onCross),
      );
    }
  } catch (error) {
    close();
    throw registrationError(error);
  }
  return {
    bytes,
    close,
    track(usage) {
      watchers.forEach((watcher, index) => (bytes[index] <= usage ? watcher.pause() : watcher.resume()));
    },
  };
}

function registrationError(error: unknown): MemshedError {
  if (MemshedError.is(error)) return error;
  const code = (error as { code?: string }).code;
  const kind = errnoKind(code) === 'internal' ? 'invalid-argument' : errnoKind(code);
  const file = error instanceof CgroupfsError ? error.path : undefined;
  return MemshedError.from(
    error,
    kind,
    `Could not register a usage threshold on ${file ?? 'cgroup.event_control'}`,
    {
      fix:
        code === 'EROFS' && error instanceof CgroupfsError && error.fix
          ? `${error.fix} (notify: poll)`
          : kind === 'permission'
            ? 'run with write access to the cgroup, or let the source poll (notify: poll)'
            : 'check that the cgroup still exists and has a v1 memory controller',
      context: { code, file },
    },
  );
}
