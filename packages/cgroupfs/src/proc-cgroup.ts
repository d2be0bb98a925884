import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CgroupfsError } from './cgroupfs-error';
import { readCgroupMounts } from './mountinfo';

/** One line of /proc/self/cgroup: `hierarchy-id:controllers:path`. */
export interface ProcCgroupEntry {
  /** Hierarchy id; 0 for the cgroup v2 unified hierarchy. */
  readonly id: number;
  /** v1 controllers of the hierarchy (empty for v2; `name=systemd` kept as is). */
  readonly controllers: readonly string[];
  /** The process's cgroup path in that hierarchy, e.g. `/process_api/abc`. */
  readonly path: string;
}

/** Parses /proc/self/cgroup. Malformed lines are skipped. */
export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const entries: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    entries.push({ id: Number(match[1]), controllers: match[2] ? match[2].split(',') : [], path: match[3] });
  }
  return entries;
}

/** A located cgroup: its path inside the hierarchy and its directory on disk. */
export interface LocatedCgroup {
  /** Which hierarchy: the v1 memory controller or the v2 unified hierarchy. */
  readonly version: CgroupVersion;
  /** The path inside the hierarchy, `/` for the root group, e.g. `/process_api/abc`. */
  readonly path: string;
  /**
   * The path below the mount point, `/` for the mount's root group: the same as `path` unless a
   * container bind-mounts a sub-tree (mount root `/docker/abc`, path `/docker/abc/app`: `/app`).
   */
  readonly relativePath: string;
  /** The directory holding its control files, e.g. `/sys/fs/cgroup/memory/process_api/abc`. */
  readonly directory: string;
  /** The mount point of the hierarchy (below the root the files were read from). */
  readonly mountPoint: string;
}

/** `v1`: the cgroup v1 memory controller's hierarchy; `v2`: the unified hierarchy. */
export type CgroupVersion = 'v1' | 'v2';

/** Options of {@link locateCgroup}. */
export interface LocateCgroupOptions {
  /** Where /proc and the mounts are: `/` (the default) on a real machine, a fixture tree in tests. */
  readonly root?: string;
  /**
   * The hierarchy's mount point as a directory on this machine (not below `root`), instead of the
   * one /proc/self/mountinfo names; its mount root is taken as `/`.
   */
  readonly mountPoint?: string;
}

function readProcCgroup(root: string): ProcCgroupEntry[] {
  try {
    return parseProcCgroup(readFileSync(path.join(root, 'proc/self/cgroup'), 'utf8'));
  } catch {
    return [];
  }
}

/** Normalises a cgroup path: absolute, '/'-separated, no empty segments; undefined with `.`/`..`. */
function normalize(value: string): string | undefined {
  const segments = value.split('/').filter((segment) => segment !== '');
  if (segments.some((segment) => segment === '.' || segment === '..')) return undefined;
  return '/' + segments.join('/');
}

const HIERARCHY_NAME: Record<CgroupVersion, string> = {
  v1: 'cgroup v1 memory controller',
  v2: 'cgroup v2 hierarchy',
};

/**
 * Locates a cgroup of the v1 memory hierarchy or of the v2 unified hierarchy:
 *
 * - `self`: this process's group, from /proc/self/cgroup (the `memory` line for v1, `0::` for v2),
 *   translated from the hierarchy path to the path below the mount, so that a container that
 *   mounts only its own sub-tree (mount root `/docker/abc`) or its own cgroup namespace (`0::/`)
 *   is found where it is mounted;
 * - a path below the mount (`/app/workers`), or a full path under the mount point
 *   (`/sys/fs/cgroup/memory/app/workers`), whose mount point is stripped.
 *
 * Whether the group exists is not checked: the caller reads the files it needs.
 *
 * @throws CgroupfsError `NO_HIERARCHY` when the hierarchy is not mounted, `NO_GROUP` when this
 *   process has no entry for it, `OUTSIDE_MOUNT` when its group lies outside the mounted sub-tree,
 *   `INVALID_PATH` for a path with `.` or `..` segments. Each names the file read and the fix.
 */
export function locateCgroup(
  version: CgroupVersion,
  group: string,
  options: LocateCgroupOptions = {},
): LocatedCgroup {
  const root = options.root ?? '/';
  const mount =
    options.mountPoint !== undefined
      ? { mountPoint: options.mountPoint, root: '/', directory: options.mountPoint }
      : findMount(version, root);
  if (!mount) {
    throw new CgroupfsError(
      'NO_HIERARCHY',
      `no ${HIERARCHY_NAME[version]} is mounted (${path.join(root, 'proc/self/mountinfo')})`,
      {
        path: path.join(root, 'proc/self/mountinfo'),
        fix:
          version === 'v1'
            ? 'on a cgroup v2 machine use the v2 files (psi, system); or mount the v1 memory controller'
            : 'on a cgroup v1 machine use the v1 memory controller (cgroup-v1, system)',
      },
    );
  }
  let groupPath: string;
  let relativePath: string;
  if (group === 'self') {
    const file = path.join(root, 'proc/self/cgroup');
    const entry = readProcCgroup(root).find((e) =>
      version === 'v2' ? e.id === 0 : e.id !== 0 && e.controllers.includes('memory'),
    );
    if (!entry) {
      throw new CgroupfsError('NO_GROUP', `this process has no ${HIERARCHY_NAME[version]} group (${file})`, {
        path: file,
        fix: 'name the cgroup explicitly',
      });
    }
    groupPath = normalize(entry.path) ?? entry.path;
    if (mount.root.split('/').includes('..')) {
      // A mount made outside this process's cgroup namespace shows its root relative to the
      // namespace's (`/../..`): the names between are not visible from here.
      throw new CgroupfsError(
        'OUTSIDE_MOUNT',
        `${mount.mountPoint} was mounted outside this process's cgroup namespace (mount root ${mount.root}): its group cannot be found in it`,
        {
          path: path.join(root, 'proc/self/mountinfo'),
          fix: 'mount the cgroup filesystem inside the namespace (docker and runc do with cgroupns=private), or name the cgroup by its path below the mount',
        },
      );
    }
    const mountRoot = normalize(mount.root) ?? '/';
    if (mountRoot === '/') relativePath = groupPath;
    else if (groupPath === mountRoot) relativePath = '/';
    else if (groupPath.startsWith(mountRoot + '/')) relativePath = groupPath.slice(mountRoot.length);
    else {
      throw new CgroupfsError(
        'OUTSIDE_MOUNT',
        `this process's group ${entry.path} is outside the mount of ${mount.mountPoint} (root ${mount.root})`,
        { path: file, fix: 'name the cgroup explicitly' },
      );
    }
  } else {
    const mountPoint = mount.mountPoint.replace(/\/+$/, '');
    const stripped =
      group === mountPoint
        ? '/'
        : group.startsWith(mountPoint + '/')
          ? group.slice(mountPoint.length)
          : group;
    const normalized = normalize(stripped);
    if (normalized === undefined) {
      throw new CgroupfsError(
        'INVALID_PATH',
        `cgroup path must not contain '.' or '..' segments: '${group}'`,
        {
          fix: "give the path below the mount, e.g. '/app/workers'",
        },
      );
    }
    groupPath = relativePath = normalized;
  }
  return {
    version,
    path: groupPath,
    relativePath,
    directory:
      relativePath === '/' ? path.normalize(mount.directory) : path.join(mount.directory, relativePath),
    mountPoint: path.normalize(mount.directory),
  };
}

/** {@link locateCgroup}, or undefined where it would throw. */
export function tryLocateCgroup(
  version: CgroupVersion,
  group: string,
  options: LocateCgroupOptions = {},
): LocatedCgroup | undefined {
  try {
    return locateCgroup(version, group, options);
  } catch (error) {
    if (error instanceof CgroupfsError) return undefined;
    throw error;
  }
}

function findMount(
  version: CgroupVersion,
  root: string,
): { mountPoint: string; root: string; directory: string } | undefined {
  const mount = readCgroupMounts(root).find((m) =>
    version === 'v2' ? m.type === 'cgroup2' : m.type === 'cgroup' && m.controllers.includes('memory'),
  );
  return (
    mount && { mountPoint: mount.mountPoint, root: mount.root, directory: path.join(root, mount.mountPoint) }
  );
}
