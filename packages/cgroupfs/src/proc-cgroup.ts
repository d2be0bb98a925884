import { readFileSync } from 'node:fs';
import path from 'node:path';
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
  /** The path inside the hierarchy, `/` for the root group, e.g. `/process_api/abc`. */
  readonly path: string;
  /** The directory holding its control files, e.g. `/sys/fs/cgroup/memory/process_api/abc`. */
  readonly directory: string;
  /** The mount point of the hierarchy. */
  readonly mountPoint: string;
}

function readProcCgroup(root: string): ProcCgroupEntry[] {
  try {
    return parseProcCgroup(readFileSync(path.join(root, 'proc/self/cgroup'), 'utf8'));
  } catch {
    return [];
  }
}

function locate(mountPoint: string, mountRoot: string, groupPath: string, root: string): LocatedCgroup {
  // A bind mount of a sub-tree (containers): strip the mount's own root from the path.
  const relative =
    mountRoot !== '/' && groupPath.startsWith(mountRoot)
      ? groupPath.slice(mountRoot.length) || '/'
      : groupPath;
  return {
    path: groupPath,
    directory: path.join(root, mountPoint, relative),
    mountPoint: path.join(root, mountPoint),
  };
}

/**
 * This process's cgroup v1 memory cgroup: the `memory` line of /proc/self/cgroup below the v1
 * memory mount. Undefined when there is no v1 memory controller.
 */
export function ownMemoryCgroupV1(root = '/'): LocatedCgroup | undefined {
  const mount = readCgroupMounts(root).find((m) => m.type === 'cgroup' && m.controllers.includes('memory'));
  const entry = readProcCgroup(root).find((e) => e.id !== 0 && e.controllers.includes('memory'));
  if (!mount || !entry) return undefined;
  return locate(mount.mountPoint, mount.root, entry.path, root);
}

/** The cgroup v2 mount point, when there is one (unified or hybrid). */
export function cgroup2MountPoint(root = '/'): string | undefined {
  const mount = readCgroupMounts(root).find((m) => m.type === 'cgroup2');
  return mount ? path.join(root, mount.mountPoint) : undefined;
}

/** This process's cgroup v2 group: the `0::` line of /proc/self/cgroup below the v2 mount. */
export function ownCgroupV2(root = '/'): LocatedCgroup | undefined {
  const mount = readCgroupMounts(root).find((m) => m.type === 'cgroup2');
  const entry = readProcCgroup(root).find((e) => e.id === 0);
  if (!mount || !entry) return undefined;
  return locate(mount.mountPoint, mount.root, entry.path, root);
}

/** A cgroup v2 group named by its path inside the hierarchy (`/a/b`), or undefined without a v2 mount. */
export function cgroupV2At(groupPath: string, root = '/'): LocatedCgroup | undefined {
  const mount = readCgroupMounts(root).find((m) => m.type === 'cgroup2');
  if (!mount) return undefined;
  const normalized = '/' + groupPath.split('/').filter(Boolean).join('/');
  return {
    path: normalized,
    directory: path.join(root, mount.mountPoint, normalized),
    mountPoint: path.join(root, mount.mountPoint),
  };
}
