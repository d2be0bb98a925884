import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupfsError, errorCode } from './cgroupfs-error';

/** What a cgroup v1 `cgroup.event_control` registration listens to. */
export type CgroupEvent =
  /** vmpressure at `level` or above (memory.pressure_level), with its propagation mode. */
  | {
      readonly kind: 'pressure';
      readonly level: 'low' | 'medium' | 'critical';
      readonly mode: 'default' | 'hierarchy' | 'local';
    }
  /** Usage crossing `bytes`, upwards or downwards (memory.usage_in_bytes). */
  | { readonly kind: 'usage'; readonly bytes: number }
  /** The group hitting OOM (memory.oom_control). */
  | { readonly kind: 'oom' };

/** The least an eventfd must offer to be registered: its fd, and a close that ends the registration. */
export interface Eventfd {
  /** The eventfd's file descriptor. */
  readonly fd: number;
  /** Closes the eventfd: the kernel drops every registration made with it. */
  close(): void;
}

/** The control file each kind of event is registered with. */
export function eventFile(event: CgroupEvent): string {
  return event.kind === 'pressure'
    ? 'memory.pressure_level'
    : event.kind === 'usage'
      ? 'memory.usage_in_bytes'
      : 'memory.oom_control';
}

/** What is written after the two fds: `low`, `critical,hierarchy`, a threshold in bytes, or ''. */
export function eventArgument(event: CgroupEvent): string {
  switch (event.kind) {
    case 'pressure':
      return event.mode === 'default' ? event.level : `${event.level},${event.mode}`;
    case 'usage':
      return String(Math.round(event.bytes));
    case 'oom':
      return '';
  }
}

const FIXES: Record<string, string> = {
  EACCES:
    'run as root, or delegate the cgroup to this user (chown its cgroup.event_control and memory.* files)',
  EPERM:
    'run as root, or delegate the cgroup to this user (chown its cgroup.event_control and memory.* files)',
  ENOENT:
    'the cgroup does not exist (or was removed), or this kernel has no cgroup v1 memory controller here',
  EINVAL: 'the kernel rejected the registration text; check the level, mode and threshold',
  EROFS:
    'the cgroup filesystem is mounted read-only here (as in most containers): no user, not even root, can register events; read the files instead (poll), or mount the group read-write',
};

/**
 * Registers an eventfd for one cgroup v1 memory event: creates it with `createEventfd(onEvent)`,
 * then writes `"<eventfd> <fd of the event's file> [argument]"` to the group's
 * `cgroup.event_control` (memory.pressure_level with level and mode, memory.usage_in_bytes with a
 * threshold, memory.oom_control). The returned eventfd IS the registration: the kernel signals it
 * (its counter grows by one per event), and closing it removes the registration (the kernel also
 * signals it once when the group is removed).
 *
 * The file descriptors of the event file and of `cgroup.event_control` are closed before this
 * returns: the kernel's `memcg_write_event_control` takes its own references (to the eventfd's
 * context and to the group) during the write and keeps none to either file, so holding them would
 * only cost two descriptors per registration. The kernel test cgroupfs-event-control.test.ts
 * checks it: events arrive with both closed, and closing the eventfd ends the registration.
 *
 * @throws CgroupfsError with the errno name as `code` (EACCES/EPERM: not permitted, EROFS: a
 *   read-only mount, ENOENT: no such group or file, EINVAL: refused text), naming the file and the text; whatever was opened,
 *   the eventfd included, is closed first. An error of `createEventfd` is thrown as it is.
 */
export function registerCgroupEvent<E extends Eventfd>(
  directory: string,
  event: CgroupEvent,
  createEventfd: (onEvent: (count: number) => void) => E,
  onEvent: (count: number) => void,
): E {
  const eventfd = createEventfd(onEvent);
  const file = eventFile(event);
  const argument = eventArgument(event);
  const control = path.join(directory, 'cgroup.event_control');
  let fileFd: number | undefined;
  let controlFd: number | undefined;
  try {
    fileFd = fs.openSync(path.join(directory, file), fs.constants.O_RDONLY);
    // Appending keeps every registration visible in a fixture's plain file; the kernel ignores it.
    controlFd = fs.openSync(control, fs.constants.O_WRONLY | fs.constants.O_APPEND);
    fs.writeSync(controlFd, `${eventfd.fd} ${fileFd}${argument === '' ? '' : ` ${argument}`}\n`);
  } catch (error) {
    eventfd.close();
    const code = errorCode(error) ?? 'EIO';
    throw new CgroupfsError(
      code,
      `could not register ${file}${argument ? ` '${argument}'` : ''} on ${control} (${code})`,
      { path: control, fix: FIXES[code], cause: error },
    );
  } finally {
    if (fileFd !== undefined) fs.closeSync(fileFd);
    if (controlFd !== undefined) fs.closeSync(controlFd);
  }
  return eventfd;
}
