import { readFileSync } from 'node:fs';
import path from 'node:path';

/** One cgroup mount from /proc/self/mountinfo. */
export interface CgroupMount {
  /** Where it is mounted, e.g. `/sys/fs/cgroup/memory` or `/sys/fs/cgroup/unified`. */
  readonly mountPoint: string;
  /** `cgroup` (v1) or `cgroup2`. */
  readonly type: 'cgroup' | 'cgroup2';
  /** v1 controllers of the hierarchy (from the super options), e.g. `['memory']`; empty for v2. */
  readonly controllers: readonly string[];
  /** The root of the mount inside the hierarchy (field 4 of mountinfo), `/` unless bind-mounted. */
  readonly root: string;
}

const V1_CONTROLLERS = new Set([
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'net_prio',
  'blkio',
  'perf_event',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
]);

/** Undoes mountinfo's octal escapes (`\040` for a space). */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/**
 * Parses /proc/self/mountinfo text and returns its cgroup mounts. Lines that are not cgroup
 * mounts, or are malformed, are skipped.
 */
export function parseCgroupMounts(text: string): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator < 0) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    const type = after[0];
    if ((type !== 'cgroup' && type !== 'cgroup2') || before.length < 5) continue;
    const superOptions = (after[2] ?? '').split(',');
    mounts.push({
      mountPoint: unescape(before[4]),
      type,
      controllers: type === 'cgroup' ? superOptions.filter((option) => V1_CONTROLLERS.has(option)) : [],
      root: unescape(before[3]),
    });
  }
  return mounts;
}

/**
 * The cgroup mounts this process sees, read below `root` (`/` on a real machine, a fixture tree in
 * tests). A mount made over another at the same mount point (a runc-style bind of the container's
 * group over /sys/fs/cgroup/memory) covers it: only the later one is returned, in the earlier one's place.
 */
export function readCgroupMounts(root = '/'): CgroupMount[] {
  let mounts: CgroupMount[];
  try {
    mounts = parseCgroupMounts(readFileSync(path.join(root, 'proc/self/mountinfo'), 'utf8'));
  } catch {
    return [];
  }
  const visible = new Map<string, CgroupMount>();
  for (const mount of mounts) visible.set(mount.mountPoint, mount);
  return [...visible.values()];
}
