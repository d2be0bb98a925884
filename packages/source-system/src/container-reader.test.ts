import path from 'node:path';
import { CgroupV1Memory, CgroupV2Memory } from '@memshed/cgroupfs';
import { ConstrainedMemoryReader, locateContainer } from './container-reader';

const MiB = 1024 * 1024;
const FIXTURES = path.join(
  path.dirname(require.resolve('@memshed/cgroupfs/package.json')),
  'src/__fixtures__',
);
const noProcess = { constrainedMemory: () => undefined, rss: () => 0 };

/** The group of this process ('self') in the fixture tree `fixture`, as locateContainer finds it. */
function locateSelfIn(fixture: string) {
  return locateContainer({ cgroup: 'self', root: path.join(FIXTURES, fixture), process: noProcess });
}

describe('locateContainer', () => {
  it("finds this machine's layout (v1 memory, cgroup2 without memory controller) as cgroup v1", () => {
    const reader = locateSelfIn('cgroup-v1');
    expect(reader).toBeInstanceOf(CgroupV1Memory);
    expect(reader?.name).toBe('/process_api/test');
    expect(reader?.directory).toBe(path.join(FIXTURES, 'cgroup-v1/sys/fs/cgroup/memory/process_api/test'));
  });

  it('finds a v1 container whose mount is a bind of its own group (docker without cgroupns)', () => {
    const reader = locateSelfIn('cgroup-v1-docker');
    expect(reader).toBeInstanceOf(CgroupV1Memory);
    expect(reader?.directory).toBe(path.join(FIXTURES, 'cgroup-v1-docker', 'sys/fs/cgroup/memory'));
  });

  it('finds a v2 group by its path in /proc/self/cgroup', () => {
    const reader = locateSelfIn('cgroup-v2');
    expect(reader).toBeInstanceOf(CgroupV2Memory);
    expect(reader?.name).toBe('/system.slice/app.service');
  });

  it('finds a v2 container in its own cgroup namespace (0::/ at the mount root)', () => {
    const reader = locateSelfIn('cgroup-v2-namespaced');
    expect(reader).toBeInstanceOf(CgroupV2Memory);
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
