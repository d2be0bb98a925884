import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CgroupV1Reader,
  CgroupV2Reader,
  ConstrainedMemoryReader,
  locateContainer,
  parseKeyedFile,
  parseLimit,
  parseMemoryEvents,
} from './container-reader';

const MiB = 1024 * 1024;
const FIXTURES = path.join(__dirname, '__fixtures__');
const noProcess = { constrainedMemory: () => undefined, rss: () => 0 };

/** A writable copy of a fixture tree, removed after the test file. */
const copies: string[] = [];
function copyFixture(name: string): string {
  const root = mkdtempSync(path.join(tmpdir(), `memshed-system-${name}-`));
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

describe('locateContainer', () => {
  it("finds this machine's layout (v1 memory, cgroup2 without memory controller) as cgroup v1", () => {
    const reader = locateContainer({
      cgroup: 'self',
      root: path.join(FIXTURES, 'cgroup-v1'),
      process: noProcess,
    });
    expect(reader).toBeInstanceOf(CgroupV1Reader);
    expect(reader?.name).toBe('/process_api/test');
    expect(reader?.directory).toBe(path.join(FIXTURES, 'cgroup-v1/sys/fs/cgroup/memory/process_api/test'));
  });

  it('finds a v1 container whose mount is a bind of its own group (docker without cgroupns)', () => {
    const root = path.join(FIXTURES, 'cgroup-v1-docker');
    const reader = locateContainer({ cgroup: 'self', root, process: noProcess });
    expect(reader).toBeInstanceOf(CgroupV1Reader);
    expect(reader?.directory).toBe(path.join(root, 'sys/fs/cgroup/memory'));
  });

  it('finds a v2 group by its path in /proc/self/cgroup', () => {
    const reader = locateContainer({
      cgroup: 'self',
      root: path.join(FIXTURES, 'cgroup-v2'),
      process: noProcess,
    });
    expect(reader).toBeInstanceOf(CgroupV2Reader);
    expect(reader?.name).toBe('/system.slice/app.service');
  });

  it('finds a v2 container in its own cgroup namespace (0::/ at the mount root)', () => {
    const reader = locateContainer({
      cgroup: 'self',
      root: path.join(FIXTURES, 'cgroup-v2-namespaced'),
      process: noProcess,
    });
    expect(reader).toBeInstanceOf(CgroupV2Reader);
  });

  it('finds a group named by path, in v1 and v2', () => {
    expect(
      locateContainer({ cgroup: '/process_api/test', root: path.join(FIXTURES, 'cgroup-v1') })?.directory,
    ).toBe(path.join(FIXTURES, 'cgroup-v1/sys/fs/cgroup/memory/process_api/test'));
    expect(
      locateContainer({ cgroup: '/system.slice/app.service/', root: path.join(FIXTURES, 'cgroup-v2') })?.name,
    ).toBe('/system.slice/app.service');
    expect(locateContainer({ cgroup: '/nowhere', root: path.join(FIXTURES, 'cgroup-v1') })).toBeUndefined();
  });

  it('falls back to process.constrainedMemory() without readable cgroups, and to nothing without a constraint', () => {
    const root = path.join(FIXTURES, 'no-cgroup');
    const constrained = { constrainedMemory: () => 512 * MiB, rss: () => 100 * MiB };
    expect(locateContainer({ cgroup: 'self', root, process: constrained })).toBeInstanceOf(
      ConstrainedMemoryReader,
    );
    expect(locateContainer({ cgroup: 'self', root, process: noProcess })).toBeUndefined();
    const unconstrained = { constrainedMemory: () => 2 ** 64, rss: () => 1 };
    expect(locateContainer({ cgroup: 'self', root, process: unconstrained })).toBeUndefined();
    // Only for this process's own container: a named cgroup that is not there is not found.
    expect(locateContainer({ cgroup: '/app', root, process: constrained })).toBeUndefined();
  });
});

describe(CgroupV1Reader, () => {
  describe('.sample', () => {
    it('reads usage, the hierarchical limit and the working set (recorded from a 256M cgroup here)', () => {
      const reader = locateContainer({ cgroup: 'self', root: path.join(FIXTURES, 'cgroup-v1') })!;
      expect(reader.sample()).toEqual({
        usage: 151662592,
        workingSet: 151662592 - 41943040, // total_inactive_file
        limit: 256 * MiB,
      });
    });

    it('takes the lower of its own limit and the hierarchical one', () => {
      const root = copyFixture('cgroup-v1');
      const reader = locateContainer({ cgroup: 'self', root }) as CgroupV1Reader;
      writeFileSync(path.join(reader.directory, 'memory.limit_in_bytes'), String(200 * MiB));
      expect(reader.sample().limit).toBe(200 * MiB);
    });

    it('throws ENOENT once the group is gone', () => {
      const root = copyFixture('cgroup-v1');
      const reader = locateContainer({ cgroup: 'self', root }) as CgroupV1Reader;
      rmSync(reader.directory, { recursive: true });
      expect(() => reader.sample()).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    });
  });
});

describe(CgroupV2Reader, () => {
  describe('.sample', () => {
    it("reads memory.current, inactive_file, and the lowest max or high up to the mount (the parent's here)", () => {
      const reader = locateContainer({ cgroup: 'self', root: path.join(FIXTURES, 'cgroup-v2') })!;
      expect(reader.sample()).toEqual({ usage: 150 * MiB, workingSet: 120 * MiB, limit: 256 * MiB });
    });

    it('judges by memory.high when it is below memory.max, and reads a namespace root', () => {
      const reader = locateContainer({ cgroup: 'self', root: path.join(FIXTURES, 'cgroup-v2-namespaced') })!;
      expect(reader.sample()).toEqual({ usage: 100 * MiB, workingSet: 70 * MiB, limit: 384 * MiB });
    });
  });

  describe('.events', () => {
    it('reads memory.events', () => {
      const reader = locateContainer({
        cgroup: 'self',
        root: path.join(FIXTURES, 'cgroup-v2'),
      }) as CgroupV2Reader;
      expect(reader.events()).toEqual({ low: 0, high: 0, max: 0, oom: 0, oom_kill: 0 });
      expect(reader.eventsFile).toBe(path.join(reader.directory, 'memory.events'));
    });
  });
});

describe(ConstrainedMemoryReader, () => {
  describe('.sample', () => {
    it("compares this process's RSS with its constraint", () => {
      const reader = new ConstrainedMemoryReader({
        constrainedMemory: () => 512 * MiB,
        rss: () => 300 * MiB,
      });
      expect(reader.sample()).toEqual({ usage: 300 * MiB, workingSet: 300 * MiB, limit: 512 * MiB });
    });
  });
});
