import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { diagnoseWriteAccess, mountOf, parseMounts } from './write-access';

const MOUNTINFO = [
  '22 1 0:21 / / rw,relatime - overlay overlay rw',
  '31 22 0:28 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs rw,mode=755',
  '35 31 0:32 /docker/abc /sys/fs/cgroup/memory ro,relatime - cgroup cgroup rw,memory',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
  '50 22 0:40 / /mnt/my\\040dir rw - ext4 /dev/sda1 ro',
].join('\n');

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'memshed-write-access-'));
  mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  writeFileSync(path.join(root, 'proc/self/mountinfo'), MOUNTINFO);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe(parseMounts, () => {
  it('reads every mount, read-only by its own options or by the filesystem', () => {
    expect(parseMounts(MOUNTINFO).map((m) => [m.mountPoint, m.type, m.readOnly])).toEqual([
      ['/', 'overlay', false],
      ['/sys/fs/cgroup', 'tmpfs', true],
      ['/sys/fs/cgroup/memory', 'cgroup', true],
      ['/sys/fs/cgroup/unified', 'cgroup2', false],
      ['/mnt/my dir', 'ext4', true],
    ]);
  });
});

describe(mountOf, () => {
  it('finds the innermost mount holding a path below the root', () => {
    const at = (file: string) => mountOf(path.join(root, file), root)?.mountPoint;
    expect(at('sys/fs/cgroup/memory/cgroup.event_control')).toBe('/sys/fs/cgroup/memory');
    expect(at('sys/fs/cgroup/memory')).toBe('/sys/fs/cgroup/memory');
    expect(at('sys/fs/cgroup/memoryx')).toBe('/sys/fs/cgroup');
    expect(at('sys/fs/cgroup/unified/a/memory.pressure')).toBe('/sys/fs/cgroup/unified');
    expect(at('etc/passwd')).toBe('/');
  });

  it('is undefined without mountinfo', () => {
    expect(mountOf('/x', path.join(root, 'missing'))).toBeUndefined();
  });
});

describe(diagnoseWriteAccess, () => {
  it('says nothing about a file this process can write', () => {
    const file = path.join(root, 'proc/self/mountinfo');
    expect(diagnoseWriteAccess(file, 'polling', root)).toBeUndefined();
  });

  it("names a missing file's errno and the alternative", () => {
    const denial = diagnoseWriteAccess(path.join(root, 'nowhere/cgroup.event_control'), 'polling', root);
    expect(denial).toMatchObject({ code: 'ENOENT', readOnlyMount: undefined });
    expect(denial?.fix).toMatch(/use polling$/);
  });
});
