import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { errorCode } from './cgroupfs-error';

/** A mount from /proc/self/mountinfo, as far as write access is concerned. */
export interface MountEntry {
  /** Where it is mounted, e.g. `/sys/fs/cgroup/memory`. */
  readonly mountPoint: string;
  /** The filesystem type, e.g. `cgroup`, `cgroup2`, `tmpfs`. */
  readonly type: string;
  /** Read-only, by the mount's own options (`ro` in field 6) or the filesystem's (super options). */
  readonly readOnly: boolean;
}

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Parses /proc/self/mountinfo text into every mount, in file order (later mounts cover earlier ones). */
export function parseMounts(text: string): MountEntry[] {
  const mounts: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    if (before.length < 6 || after.length < 1) continue;
    const options = before[5].split(',');
    const superOptions = (after[2] ?? '').split(',');
    mounts.push({
      mountPoint: unescape(before[4]),
      type: after[0],
      readOnly: options.includes('ro') || superOptions.includes('ro'),
    });
  }
  return mounts;
}

/**
 * The mount that holds `file` (an absolute path on this machine, below `root`): the last mount in
 * /proc/self/mountinfo whose mount point is `file` or one of its parents, as the kernel resolves
 * stacked mounts. Undefined when mountinfo cannot be read.
 */
export function mountOf(file: string, root = '/'): MountEntry | undefined {
  let text: string;
  try {
    text = readFileSync(path.join(root, 'proc/self/mountinfo'), 'utf8');
  } catch {
    return undefined;
  }
  // mountinfo names mount points as this process sees them; a fixture tree lives below `root`.
  const inside = '/' + path.relative(path.resolve(root), path.resolve(file)).split(path.sep).join('/');
  let found: MountEntry | undefined;
  for (const mount of parseMounts(text)) {
    const point = mount.mountPoint.replace(/\/+$/, '') || '/';
    if (point === '/' || inside === point || inside.startsWith(point + '/')) {
      if (!found || point.length >= (found.mountPoint.replace(/\/+$/, '') || '/').length) found = mount;
    }
  }
  return found;
}

/** Why a cgroup file cannot be written, with the fix that applies where it is. */
export interface WriteDenial {
  /** `EROFS` (a read-only mount: nobody can write, not even root), `EACCES` or `EPERM` (this user may not), or another errno name. */
  readonly code: string;
  /** The read-only mount, when that is why. */
  readonly readOnlyMount: string | undefined;
  /** Why, naming the file (and the read-only mount). */
  readonly reason: string;
  /** What can be done about it in this environment. */
  readonly fix: string;
}

/**
 * Whether `file` (a cgroup control file such as `cgroup.event_control`) can be opened for writing
 * by this process, and when not, why and what can be done there: a read-only mount (a container's
 * /sys/fs/cgroup) is named as such, since neither root nor chown can write through it; a file this
 * user may not write can be delegated (chown) only when its mount is writable.
 *
 * `instead` names what works without writing (e.g. `the system source (polls usage) or psi`); it
 * ends both fixes. Returns undefined when the file is writable.
 */
export function diagnoseWriteAccess(file: string, instead: string, root = '/'): WriteDenial | undefined {
  let code: string;
  try {
    accessSync(file, constants.W_OK);
    return undefined;
  } catch (error) {
    code = errorCode(error) ?? 'EIO';
  }
  const mount = mountOf(file, root);
  if (code === 'EROFS' || mount?.readOnly) {
    const where = mount?.mountPoint ?? path.dirname(file);
    return {
      code: 'EROFS',
      readOnlyMount: where,
      reason: `${file} is on a read-only mount (${where}${mount ? `, ${mount.type}` : ''}): nobody can write it here, not even root`,
      fix: `use ${instead}; or mount ${where} read-write (outside the container, e.g. a writable cgroup mount or cgroupns=private with a delegated group)`,
    };
  }
  return {
    code,
    readOnlyMount: undefined,
    reason: `not permitted to write ${file} (${code})`,
    fix: `run as root, or delegate the cgroup to this user (chown its cgroup.event_control and memory.* files); or use ${instead}`,
  };
}
