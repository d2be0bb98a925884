import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CgroupV1Memory, CgroupV2Memory, openCgroupMemory, openCgroupMemoryAt } from './cgroup-memory';
import { parseKeyedFile, parseLimit, parseMemoryEvents, parseOomControl } from './memory-files';

const MiB = 1024 * 1024;
const FIXTURES = path.join(__dirname, '__fixtures__');

/** A writable copy of a fixture tree, removed after the test file. */
const copies: string[] = [];
function copyFixture(name: string): string {
  const root = mkdtempSync(path.join(tmpdir(), `memshed-cgroupfs-${name}-`));
  cpSync(path.join(FIXTURES, name), root, { recursive: true });
  copies.push(root);
  return root;
}
afterAll(() => copies.forEach((root) => rmSync(root, { recursive: true, force: true })));

describe('parseLimit', () => {
  it('reads bytes, and none for max, empty, and the huge values v1 and Node use for no limit', () => {
    expect(parseLimit('268435456\n')).toBe(256 * MiB);
    expect(parseLimit('max\n')).toBe(Infinity);
    expect(parseLimit('9223372036854771712\n')).toBe(Infinity);
    expect(parseLimit('18446744073709551615')).toBe(Infinity);
    expect(parseLimit('')).toBe(Infinity);
  });
});

describe('parseKeyedFile', () => {
  it('reads key value lines and skips the rest', () => {
    expect(parseKeyedFile('cache 10\nrss 20\n\ngarbage\nbad x\n')).toEqual({ cache: 10, rss: 20 });
  });
});

describe('parseMemoryEvents', () => {
  it('reads cgroup v2 memory.events, missing counters as 0', () => {
    expect(parseMemoryEvents('low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\noom_group_kill 0\n')).toEqual({
      low: 1,
      high: 2,
      max: 3,
      oom: 4,
      oom_kill: 5,
    });
    expect(parseMemoryEvents('high 7\n')).toEqual({ low: 0, high: 7, max: 0, oom: 0, oom_kill: 0 });
  });
});

describe('parseOomControl', () => {
  it('reads cgroup v1 memory.oom_control, missing fields as undefined', () => {
    expect(parseOomControl('oom_kill_disable 0\nunder_oom 1\noom_kill 3\n')).toEqual({
      oomKillDisable: 0,
      underOom: 1,
      oomKill: 3,
    });
    expect(parseOomControl('oom_kill_disable 1\nunder_oom 0\n').oomKill).toBeUndefined();
  });
});

describe(openCgroupMemory, () => {
  it("finds this machine's layout (v1 memory, cgroup2 without memory controller) as cgroup v1", () => {
    const memory = openCgroupMemory('self', { root: path.join(FIXTURES, 'cgroup-v1') });
    expect(memory).toBeInstanceOf(CgroupV1Memory);
    expect(memory?.name).toBe('/process_api/test');
    expect(memory?.directory).toBe(path.join(FIXTURES, 'cgroup-v1/sys/fs/cgroup/memory/process_api/test'));
    expect(memory?.usageFile).toBe(path.join(memory!.directory, 'memory.usage_in_bytes'));
  });

  it('finds a v1 container whose mount is a bind of its own group (docker without cgroupns)', () => {
    const root = path.join(FIXTURES, 'cgroup-v1-docker');
    const memory = openCgroupMemory('self', { root });
    expect(memory).toBeInstanceOf(CgroupV1Memory);
    expect(memory?.directory).toBe(path.join(root, 'sys/fs/cgroup/memory'));
  });

  it('finds a v2 group by its path in /proc/self/cgroup, and in its own cgroup namespace', () => {
    const memory = openCgroupMemory('self', { root: path.join(FIXTURES, 'cgroup-v2') });
    expect(memory).toBeInstanceOf(CgroupV2Memory);
    expect(memory?.name).toBe('/system.slice/app.service');
    expect(openCgroupMemory('self', { root: path.join(FIXTURES, 'cgroup-v2-namespaced') })).toBeInstanceOf(
      CgroupV2Memory,
    );
  });

  it('finds a group named by path, in v1 and v2, and nothing where there is none', () => {
    expect(openCgroupMemory('/process_api/test', { root: path.join(FIXTURES, 'cgroup-v1') })?.directory).toBe(
      path.join(FIXTURES, 'cgroup-v1/sys/fs/cgroup/memory/process_api/test'),
    );
    expect(
      openCgroupMemory('/system.slice/app.service/', { root: path.join(FIXTURES, 'cgroup-v2') })?.name,
    ).toBe('/system.slice/app.service');
    expect(openCgroupMemory('/nowhere', { root: path.join(FIXTURES, 'cgroup-v1') })).toBeUndefined();
    expect(openCgroupMemory('self', { root: path.join(FIXTURES, 'no-cgroup') })).toBeUndefined();
  });
});

describe(openCgroupMemoryAt, () => {
  it('opens a group by its directory, v1 before v2, and nothing without a usage file', () => {
    const v1 = path.join(FIXTURES, 'cgroup-v1/sys/fs/cgroup/memory/process_api/test');
    const v2 = path.join(FIXTURES, 'cgroup-v2/sys/fs/cgroup/system.slice/app.service');
    expect(openCgroupMemoryAt(v1)).toBeInstanceOf(CgroupV1Memory);
    expect(openCgroupMemoryAt(v2)).toBeInstanceOf(CgroupV2Memory);
    expect(openCgroupMemoryAt(v2)?.usage()).toBe(150 * MiB);
    expect(openCgroupMemoryAt(path.join(FIXTURES, 'no-cgroup'))).toBeUndefined();
  });
});

describe(CgroupV1Memory, () => {
  describe('.sample', () => {
    it('reads usage, the hierarchical limit and the working set (recorded from a 256M cgroup here)', () => {
      const memory = openCgroupMemory('self', { root: path.join(FIXTURES, 'cgroup-v1') })!;
      expect(memory.sample()).toEqual({
        usage: 151662592,
        workingSet: 151662592 - 41943040, // total_inactive_file
        limit: 256 * MiB,
      });
    });

    it('takes the lower of its own limit and the hierarchical one', () => {
      const root = copyFixture('cgroup-v1');
      const memory = openCgroupMemory('self', { root }) as CgroupV1Memory;
      writeFileSync(path.join(memory.directory, 'memory.limit_in_bytes'), String(200 * MiB));
      expect(memory.sample().limit).toBe(200 * MiB);
      expect(memory.limit()).toBe(200 * MiB);
    });

    it('throws ENOENT once the group is gone', () => {
      const root = copyFixture('cgroup-v1');
      const memory = openCgroupMemory('self', { root }) as CgroupV1Memory;
      rmSync(memory.directory, { recursive: true });
      expect(() => memory.sample()).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    });
  });
});

describe(CgroupV2Memory, () => {
  describe('.sample', () => {
    it("reads memory.current, inactive_file, and the lowest max or high up to the mount (the parent's here)", () => {
      const memory = openCgroupMemory('self', { root: path.join(FIXTURES, 'cgroup-v2') })!;
      expect(memory.sample()).toEqual({ usage: 150 * MiB, workingSet: 120 * MiB, limit: 256 * MiB });
    });

    it('judges by memory.high when it is below memory.max, and reads a namespace root', () => {
      const memory = openCgroupMemory('self', { root: path.join(FIXTURES, 'cgroup-v2-namespaced') })!;
      expect(memory.sample()).toEqual({ usage: 100 * MiB, workingSet: 70 * MiB, limit: 384 * MiB });
    });
  });

  describe('.events', () => {
    it('reads memory.events', () => {
      const memory = openCgroupMemory('self', { root: path.join(FIXTURES, 'cgroup-v2') }) as CgroupV2Memory;
      expect(memory.events()).toEqual({ low: 0, high: 0, max: 0, oom: 0, oom_kill: 0 });
      expect(memory.eventsFile).toBe(path.join(memory.directory, 'memory.events'));
    });
  });
});
