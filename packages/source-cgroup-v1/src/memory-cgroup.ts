import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemshedError } from '@memshed/core';

/** The usual mount point of the cgroup v1 memory controller. */
export const DEFAULT_MEMORY_MOUNT = '/sys/fs/cgroup/memory';

/** A v1 memory controller mount: where it is, and which cgroup of the hierarchy is its root. */
export interface MemoryMount {
  /** The mount point, e.g. /sys/fs/cgroup/memory. */
  readonly mountPoint: string;
  /** The hierarchy path mounted there: `/` normally, `/docker/<id>` inside some containers. */
  readonly root: string;
}

/** A resolved memory cgroup. */
export interface MemoryCgroup {
  /** The directory holding memory.pressure_level, cgroup.event_control and friends. */
  readonly dir: string;
  /** The path below the mount point, `/` for the mount's root cgroup: the engine scope. */
  readonly scope: string;
}

/** Decodes mountinfo's octal escapes (`\040` for a space). */
function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * The cgroup v1 memory controller mount from `<procRoot>/self/mountinfo`, or undefined when there
 * is none (a cgroup v2-only machine, or no cgroups mounted).
 */
export function findMemoryMount(procRoot = '/proc'): MemoryMount | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(procRoot, 'self', 'mountinfo'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const fields = line.slice(0, separator).split(' ');
    const [fsType, , superOptions = ''] = line.slice(separator + 3).split(' ');
    if (fsType !== 'cgroup' || !superOptions.split(',').includes('memory')) continue;
    return { root: unescapeMountField(fields[3]), mountPoint: unescapeMountField(fields[4]) };
  }
  return undefined;
}

/** This process's memory cgroup as written in `<procRoot>/self/cgroup` (hierarchy path), or undefined. */
export function ownMemoryCgroupPath(procRoot = '/proc'): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.join(procRoot, 'self', 'cgroup'), 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    if (
      line
        .slice(first + 1, second)
        .split(',')
        .includes('memory')
    )
      return line.slice(second + 1);
  }
  return undefined;
}

/** Normalises a cgroup path: absolute, '/'-separated, no empty/./.. segments. */
function normalizeCgroupPath(value: string): string | undefined {
  const segments = value.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) return undefined;
  return '/' + segments.join('/');
}

/**
 * Resolves the `cgroup` option against a mount: `self` through /proc/self/cgroup (translated from
 * the hierarchy path to the path below the mount), a path below the mount as is, and a full path
 * under the mount point with the mount point stripped.
 *
 * @throws MemshedError `invalid-argument` for a path with `.`/`..`, `unavailable` when `self`
 *   cannot be found or lies outside the mount (another cgroup namespace).
 */
export function resolveMemoryCgroup(cgroup: string, mount: MemoryMount, procRoot = '/proc'): MemoryCgroup {
  let below: string | undefined;
  if (cgroup === 'self') {
    const own = ownMemoryCgroupPath(procRoot);
    if (own === undefined) {
      throw new MemshedError(
        'unavailable',
        `This process has no cgroup v1 memory cgroup (${procRoot}/self/cgroup)`,
        {
          fix: 'name the cgroup explicitly with the `cgroup` option, or use the psi source',
        },
      );
    }
    const root = normalizeCgroupPath(mount.root) ?? '/';
    const normalized = normalizeCgroupPath(own) ?? own;
    if (root === '/') below = normalized;
    else if (normalized === root) below = '/';
    else if (normalized.startsWith(root + '/')) below = normalized.slice(root.length);
    else {
      throw new MemshedError(
        'unavailable',
        `This process's memory cgroup ${own} is outside the mount of ${mount.mountPoint} (root ${mount.root})`,
        { fix: 'name the cgroup explicitly with the `cgroup` option' },
      );
    }
  } else {
    const mountPoint = mount.mountPoint.replace(/\/+$/, '');
    const stripped =
      cgroup === mountPoint
        ? '/'
        : cgroup.startsWith(mountPoint + '/')
          ? cgroup.slice(mountPoint.length)
          : cgroup;
    below = normalizeCgroupPath(stripped);
    if (below === undefined) {
      throw new MemshedError(
        'invalid-argument',
        `Cgroup path must not contain '.' or '..' segments: '${cgroup}'`,
        {
          fix: "give the path below the mount, e.g. '/app/workers'",
        },
      );
    }
  }
  return {
    dir: below === '/' ? path.normalize(mount.mountPoint) : path.join(mount.mountPoint, below),
    scope: below,
  };
}
