/**
 * cgroupfs's `registerCgroupEvent` against the real kernel: which file descriptors a cgroup v1
 * `cgroup.event_control` registration needs to stay alive. It closes the fd of the event file
 * (memory.pressure_level, memory.usage_in_bytes) and of cgroup.event_control right after the write;
 * these tests show that the kernel needs nothing more than the eventfd: real events arrive with only
 * the eventfds open, the registration lives until the group is removed (the kernel signals the
 * eventfd then), and closing the eventfd ends it without leaving anything behind.
 * Asserts kinds of events, never exact counts (the kernel is not exact).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { registerCgroupEvent, type CgroupEvent } from '@memshed/cgroupfs';
import { nativeAvailability, watchEventfd, type NativeWatcher } from '@memshed/native';
import {
  MiB,
  exited,
  removeAllTestCgroups,
  spawnWorkload,
  testCgroupsUnavailableReason,
  withTestCgroup,
  type TestCgroup,
} from './support/cgroup';

const native = nativeAvailability();
const unavailable = testCgroupsUnavailableReason() ?? (native.available ? undefined : native.reason);
if (unavailable) console.warn(`cgroupfs event_control kernel tests skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

jest.setTimeout(30_000);
afterAll(() => removeAllTestCgroups());

/** Where each open fd of this process points. */
function openFds(): Map<number, string> {
  const fds = new Map<number, string>();
  for (const entry of fs.readdirSync('/proc/self/fd')) {
    try {
      fds.set(Number(entry), fs.readlinkSync(`/proc/self/fd/${entry}`));
    } catch {
      // The fd of the directory listing itself is gone by now.
    }
  }
  return fds;
}

/** The fds opened since `before`, by target. */
function openedSince(before: Map<number, string>): string[] {
  return [...openFds()].filter(([fd, target]) => before.get(fd) !== target).map(([, target]) => target);
}

/** An eventfd registered on `cgroup`, counting what the kernel signalled. */
interface Registered {
  readonly watcher: NativeWatcher;
  count: number;
}

function register(cgroup: TestCgroup, event: CgroupEvent): Registered {
  const registered = { count: 0 } as Registered & { watcher: NativeWatcher };
  registered.watcher = registerCgroupEvent(cgroup.path, event, watchEventfd, (count) => {
    registered.count += count;
  });
  return registered;
}

/** Resolves once `condition()` holds, polling every 10 ms; rejects naming `what` after `ms`. */
async function until(condition: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describeKernel('registerCgroupEvent (cgroup v1 cgroup.event_control)', () => {
  it('delivers real events with only the eventfds open: the event file and the control fd are closed', async () => {
    await withTestCgroup({ name: 'fds-closed', limitBytes: 64 * MiB }, async (cgroup) => {
      const before = openFds();
      const low = register(cgroup, { kind: 'pressure', level: 'low', mode: 'default' });
      const usage = register(cgroup, { kind: 'usage', bytes: 32 * MiB });
      // Nothing but the two eventfds stays open: no memory.* file, no cgroup.event_control.
      expect(openedSince(before).sort()).toEqual(['anon_inode:[eventfd]', 'anon_inode:[eventfd]']);
      const workload = await spawnWorkload(cgroup);
      try {
        await until(() => low.count > 0 && usage.count > 0, 'low pressure and the 32M usage crossing');
      } finally {
        workload.kill('SIGKILL');
        await exited(workload);
      }
      expect({ low: low.count > 0, usage: usage.count > 0 }).toEqual({ low: true, usage: true });
      low.watcher.close();
      usage.watcher.close();
      expect(openedSince(before)).toEqual([]);
    });
  });

  it('lives until the group is removed: rmdir signals the eventfd and cgroup.event_control is gone', async () => {
    await withTestCgroup({ name: 'until-rmdir', limitBytes: 64 * MiB }, async (cgroup) => {
      const critical = register(cgroup, { kind: 'pressure', level: 'critical', mode: 'default' });
      try {
        expect(critical.count).toBe(0);
        await cgroup.remove();
        await until(() => critical.count > 0, 'the removal signal on the eventfd');
        expect(fs.existsSync(path.join(cgroup.path, 'cgroup.event_control'))).toBe(false);
      } finally {
        critical.watcher.close();
      }
    });
  });

  it('ends when the eventfd is closed: the others carry on, no fd is left, the group is removed cleanly', async () => {
    const before = openFds();
    await withTestCgroup({ name: 'closed-eventfd', limitBytes: 64 * MiB }, async (cgroup) => {
      const kept = register(cgroup, { kind: 'pressure', level: 'low', mode: 'default' });
      const closed = register(cgroup, { kind: 'pressure', level: 'low', mode: 'default' });
      const closedFd = closed.watcher.fd;
      closed.watcher.close();
      // The kernel's registration held its own reference to the eventfd, never our fd.
      expect(fs.existsSync(`/proc/self/fd/${closedFd}`)).toBe(false);
      const workload = await spawnWorkload(cgroup);
      try {
        await until(() => kept.count > 0, 'low pressure on the kept eventfd');
      } finally {
        workload.kill('SIGKILL');
        await exited(workload);
      }
      expect({ kept: kept.count > 0, closed: closed.count }).toEqual({ kept: true, closed: 0 });
      kept.watcher.close();
      await cgroup.remove();
      expect(fs.existsSync(cgroup.path)).toBe(false);
    });
    // Let libuv run the close callbacks of the poll handles before counting.
    await new Promise((resolve) => setImmediate(resolve));
    expect(openedSince(before)).toEqual([]);
  });
});
