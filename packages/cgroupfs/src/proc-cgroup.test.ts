import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CgroupfsError } from './cgroupfs-error';
import { readCgroupMounts } from './mountinfo';
import { locateCgroup, parseProcCgroup, tryLocateCgroup } from './proc-cgroup';

let root: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'memshed-cgroupfs-'));
  fs.mkdirSync(path.join(root, 'proc', 'self'), { recursive: true });
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function fixture(cgroup: string, mountinfo: string): void {
  fs.writeFileSync(path.join(root, 'proc', 'self', 'cgroup'), cgroup);
  fs.writeFileSync(path.join(root, 'proc', 'self', 'mountinfo'), mountinfo);
}

function thrown(fn: () => unknown): CgroupfsError {
  try {
    fn();
  } catch (error) {
    if (error instanceof CgroupfsError) return error;
    throw error;
  }
  throw new Error('expected a CgroupfsError');
}

const HOST_MOUNTINFO = [
  '30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
  '31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '34 30 0:31 / /sys/fs/cgroup/memory rw,relatime shared:7 - cgroup cgroup rw,memory',
  '40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

const DOCKER_MOUNTINFO = '1012 1005 0:31 /docker/abc /sys/fs/cgroup/memory ro - cgroup cgroup rw,memory\n';

describe(readCgroupMounts, () => {
  it('finds the v1 memory mount among other cgroup mounts, with optional fields', () => {
    fixture('', HOST_MOUNTINFO);
    expect(readCgroupMounts(root).find((m) => m.controllers.includes('memory'))).toEqual({
      mountPoint: '/sys/fs/cgroup/memory',
      type: 'cgroup',
      controllers: ['memory'],
      root: '/',
    });
  });

  it('finds a co-mounted controller, a container root and escaped mount points', () => {
    fixture('', '50 1 0:40 /docker/abc /mnt/my\\040cgroups rw - cgroup cgroup rw,cpu,memory\n');
    expect(readCgroupMounts(root)).toEqual([
      { mountPoint: '/mnt/my cgroups', type: 'cgroup', controllers: ['cpu', 'memory'], root: '/docker/abc' },
    ]);
  });

  it('returns no mounts without /proc', () => {
    expect(readCgroupMounts(path.join(root, 'missing'))).toEqual([]);
  });
});

describe(parseProcCgroup, () => {
  it('reads the memory line, also when co-mounted', () => {
    expect(parseProcCgroup('9:name=systemd:/\n4:memory:/process_api/x\n0::/\n')).toEqual([
      { id: 9, controllers: ['name=systemd'], path: '/' },
      { id: 4, controllers: ['memory'], path: '/process_api/x' },
      { id: 0, controllers: [], path: '/' },
    ]);
    expect(parseProcCgroup('3:cpu,memory:/a:b\n')).toEqual([
      { id: 3, controllers: ['cpu', 'memory'], path: '/a:b' },
    ]);
  });
});

describe(locateCgroup, () => {
  it("resolves 'self' below the mount, translating a container's mount root", () => {
    fixture('4:memory:/docker/abc/app\n', HOST_MOUNTINFO);
    expect(locateCgroup('v1', 'self', { root })).toEqual({
      version: 'v1',
      path: '/docker/abc/app',
      relativePath: '/docker/abc/app',
      directory: path.join(root, 'sys/fs/cgroup/memory/docker/abc/app'),
      mountPoint: path.join(root, 'sys/fs/cgroup/memory'),
    });
    fixture('4:memory:/docker/abc/app\n', DOCKER_MOUNTINFO);
    expect(locateCgroup('v1', 'self', { root })).toMatchObject({
      path: '/docker/abc/app',
      relativePath: '/app',
      directory: path.join(root, 'sys/fs/cgroup/memory/app'),
    });
    fixture('4:memory:/docker/abc\n', DOCKER_MOUNTINFO);
    expect(locateCgroup('v1', 'self', { root })).toMatchObject({
      relativePath: '/',
      directory: path.join(root, 'sys/fs/cgroup/memory'),
    });
  });

  it('takes a runc-style bind of the group over the mount point as the mount, not the one it covers', () => {
    fixture(
      '4:memory:/docker/abc\n',
      HOST_MOUNTINFO +
        '\n66 34 0:31 /docker/abc /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory\n',
    );
    expect(readCgroupMounts(root).filter((m) => m.controllers.includes('memory'))).toHaveLength(1);
    expect(locateCgroup('v1', 'self', { root })).toMatchObject({
      relativePath: '/',
      directory: path.join(root, 'sys/fs/cgroup/memory'),
    });
  });

  it('refuses a mount made outside its cgroup namespace, which shows its root as /../..', () => {
    fixture('4:memory:/\n', '54 50 0:32 /../../.. /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n');
    expect(thrown(() => locateCgroup('v1', 'self', { root }))).toMatchObject({
      code: 'OUTSIDE_MOUNT',
      message: expect.stringMatching(/outside this process's cgroup namespace/),
      fix: expect.stringMatching(/mount the cgroup filesystem inside the namespace/),
    });
  });

  it("resolves the v2 group of 'self' from the 0:: line, and a cgroup namespace's root", () => {
    fixture('4:memory:/x\n0::/system.slice/app.service\n', HOST_MOUNTINFO);
    expect(locateCgroup('v2', 'self', { root })).toMatchObject({
      version: 'v2',
      path: '/system.slice/app.service',
      directory: path.join(root, 'sys/fs/cgroup/unified/system.slice/app.service'),
    });
    fixture('0::/\n', '1420 1401 0:22 / /sys/fs/cgroup ro - cgroup2 cgroup2 rw,nsdelegate\n');
    expect(locateCgroup('v2', 'self', { root })).toMatchObject({
      path: '/',
      relativePath: '/',
      directory: path.join(root, 'sys/fs/cgroup'),
    });
  });

  it('rejects a self cgroup outside the mount, no memory line, and no hierarchy', () => {
    fixture('4:memory:/elsewhere\n', DOCKER_MOUNTINFO);
    expect(thrown(() => locateCgroup('v1', 'self', { root }))).toMatchObject({
      code: 'OUTSIDE_MOUNT',
      message: expect.stringMatching(/outside the mount/),
    });
    fixture('0::/\n', HOST_MOUNTINFO);
    expect(thrown(() => locateCgroup('v1', 'self', { root }))).toMatchObject({
      code: 'NO_GROUP',
      message: expect.stringMatching(/no cgroup v1 memory controller group/),
      fix: expect.any(String),
    });
    fixture('0::/\n', '40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n');
    expect(thrown(() => locateCgroup('v1', 'self', { root }))).toMatchObject({ code: 'NO_HIERARCHY' });
    expect(tryLocateCgroup('v1', 'self', { root })).toBeUndefined();
  });

  it('takes paths below the mount or under the mount point, normalised', () => {
    fixture('', HOST_MOUNTINFO);
    expect(locateCgroup('v1', '/app//workers/', { root })).toMatchObject({
      path: '/app/workers',
      relativePath: '/app/workers',
      directory: path.join(root, 'sys/fs/cgroup/memory/app/workers'),
    });
    expect(locateCgroup('v1', '/sys/fs/cgroup/memory/app', { root }).relativePath).toBe('/app');
    expect(locateCgroup('v1', '/sys/fs/cgroup/memory', { root }).relativePath).toBe('/');
    expect(thrown(() => locateCgroup('v1', '/app/../etc', { root }))).toMatchObject({
      code: 'INVALID_PATH',
      message: expect.stringMatching(/'\.' or '\.\.'/),
    });
  });

  it('uses a mount point given as a directory of this machine instead of mountinfo', () => {
    fixture('4:memory:/app\n', '');
    expect(locateCgroup('v1', 'self', { root, mountPoint: '/m' })).toMatchObject({
      relativePath: '/app',
      directory: '/m/app',
      mountPoint: '/m',
    });
    expect(locateCgroup('v1', '/m/app/x', { root, mountPoint: '/m' }).directory).toBe('/m/app/x');
  });
});
