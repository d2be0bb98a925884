import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { findMemoryMount, ownMemoryCgroupPath, resolveMemoryCgroup } from './memory-cgroup';

let proc: string;

beforeEach(() => {
  proc = fs.mkdtempSync(path.join(os.tmpdir(), 'memshed-proc-'));
  fs.mkdirSync(path.join(proc, 'self'));
});

afterEach(() => fs.rmSync(proc, { recursive: true, force: true }));

function fixture(cgroup: string, mountinfo: string): void {
  fs.writeFileSync(path.join(proc, 'self', 'cgroup'), cgroup);
  fs.writeFileSync(path.join(proc, 'self', 'mountinfo'), mountinfo);
}

const HOST_MOUNTINFO = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

describe(findMemoryMount, () => {
  it('finds the v1 memory mount among other cgroup mounts, with optional fields', () => {
    fixture('', HOST_MOUNTINFO);
    expect(findMemoryMount(proc)).toEqual({ mountPoint: '/sys/fs/cgroup/memory', root: '/' });
  });

  it('finds a co-mounted controller, a container root and escaped mount points', () => {
    fixture('', '50 1 0:40 /docker/abc /mnt/my\\040cgroups rw - cgroup cgroup rw,cpu,memory\n');
    expect(findMemoryMount(proc)).toEqual({ mountPoint: '/mnt/my cgroups', root: '/docker/abc' });
  });

  it('returns undefined on a cgroup v2-only machine or without /proc', () => {
    fixture('', '40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n');
    expect(findMemoryMount(proc)).toBeUndefined();
    expect(findMemoryMount(path.join(proc, 'missing'))).toBeUndefined();
  });
});

describe(ownMemoryCgroupPath, () => {
  it('reads the memory line, also when co-mounted', () => {
    fixture('9:name=systemd:/\n4:memory:/process_api/x\n0::/\n', '');
    expect(ownMemoryCgroupPath(proc)).toBe('/process_api/x');
    fixture('3:cpu,memory:/a:b\n', '');
    expect(ownMemoryCgroupPath(proc)).toBe('/a:b');
  });
});

describe(resolveMemoryCgroup, () => {
  const hostMount = { mountPoint: '/sys/fs/cgroup/memory', root: '/' };

  it("resolves 'self' below the mount, translating a container's mount root", () => {
    fixture('4:memory:/docker/abc/app\n', '');
    expect(resolveMemoryCgroup('self', hostMount, proc)).toEqual({
      dir: '/sys/fs/cgroup/memory/docker/abc/app',
      scope: '/docker/abc/app',
    });
    expect(
      resolveMemoryCgroup('self', { mountPoint: '/sys/fs/cgroup/memory', root: '/docker/abc' }, proc),
    ).toEqual({
      dir: '/sys/fs/cgroup/memory/app',
      scope: '/app',
    });
    fixture('4:memory:/docker/abc\n', '');
    expect(resolveMemoryCgroup('self', { mountPoint: '/m', root: '/docker/abc' }, proc)).toEqual({
      dir: '/m',
      scope: '/',
    });
  });

  it('rejects a self cgroup outside the mount, and no memory line at all', () => {
    fixture('4:memory:/elsewhere\n', '');
    expect(() => resolveMemoryCgroup('self', { mountPoint: '/m', root: '/docker/abc' }, proc)).toThrow(
      /outside the mount/,
    );
    fixture('0::/\n', '');
    expect(() => resolveMemoryCgroup('self', hostMount, proc)).toThrow(/no cgroup v1 memory cgroup/);
  });

  it('takes paths below the mount or under the mount point, normalised', () => {
    expect(resolveMemoryCgroup('/app//workers/', hostMount, proc)).toEqual({
      dir: '/sys/fs/cgroup/memory/app/workers',
      scope: '/app/workers',
    });
    expect(resolveMemoryCgroup('/sys/fs/cgroup/memory/app', hostMount, proc).scope).toBe('/app');
    expect(resolveMemoryCgroup('/sys/fs/cgroup/memory', hostMount, proc).scope).toBe('/');
    expect(() => resolveMemoryCgroup('/app/../etc', hostMount, proc)).toThrow(/'\.' or '\.\.'/);
  });
});
