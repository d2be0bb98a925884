import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CgroupfsError } from './cgroupfs-error';
import { eventArgument, eventFile, registerCgroupEvent, type Eventfd } from './event-control';

const DIR = 'sys/fs/cgroup/memory/process_api/test';

/** Eventfds that record themselves, so the test sees what was registered and closed. */
function fakeEventfds() {
  const eventfds: (Eventfd & { closed: boolean; fire(count: number): void })[] = [];
  const create = (callback: (count: number) => void) => {
    const eventfd = {
      fd: 100 + eventfds.length,
      closed: false,
      close() {
        eventfd.closed = true;
      },
      fire: (count: number) => callback(count),
    };
    eventfds.push(eventfd);
    return eventfd;
  };
  return { eventfds, create };
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe(registerCgroupEvent, () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'memshed-event-control-'));
    cpSync(path.join(__dirname, '__fixtures__/cgroup-v1'), root, { recursive: true });
    dir = path.join(root, DIR);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('writes "<eventfd> <fd of the file> <argument>" and returns the eventfd, which calls back', () => {
    const { eventfds, create } = fakeEventfds();
    const counts: number[] = [];
    const eventfd = registerCgroupEvent(dir, { kind: 'usage', bytes: 300 }, create, (n) => counts.push(n));
    expect(eventfd).toBe(eventfds[0]);
    registerCgroupEvent(dir, { kind: 'usage', bytes: 200.4 }, create, () => undefined);
    expect(readFileSync(path.join(dir, 'cgroup.event_control'), 'utf8')).toMatch(
      /^100 \d+ 300\n101 \d+ 200\n$/,
    );
    eventfds[0].fire(3);
    expect(counts).toEqual([3]);
  });

  it('closes the event file and cgroup.event_control before returning: the eventfd is the registration', () => {
    const before = openFds();
    const { eventfds, create } = fakeEventfds();
    registerCgroupEvent(dir, { kind: 'usage', bytes: 100 }, create, () => undefined);
    expect(openFds()).toBe(before);
    expect(eventfds[0].closed).toBe(false);
  });

  it('names the file and text, closes the eventfd and every fd, and keeps the errno as code', () => {
    const { eventfds, create } = fakeEventfds();
    const before = openFds();
    let error: unknown;
    try {
      registerCgroupEvent(path.join(root, 'missing'), { kind: 'usage', bytes: 100 }, create, () => undefined);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CgroupfsError);
    expect(error).toMatchObject({
      code: 'ENOENT',
      path: path.join(root, 'missing/cgroup.event_control'),
      message: expect.stringMatching(
        /could not register memory.usage_in_bytes '100' on .*missing\/cgroup.event_control/,
      ),
      fix: expect.any(String),
    });
    expect(eventfds.every((e) => e.closed)).toBe(true);
    expect(openFds()).toBe(before);
  });

  it('throws the error of a failing eventfd factory as it is', () => {
    const failure = new Error('no addon');
    expect(() =>
      registerCgroupEvent(
        dir,
        { kind: 'oom' },
        () => {
          throw failure;
        },
        () => undefined,
      ),
    ).toThrow(failure);
  });
});

describe(eventArgument, () => {
  it('spells level and mode, thresholds and OOM as the kernel wants them', () => {
    expect(eventArgument({ kind: 'pressure', level: 'medium', mode: 'default' })).toBe('medium');
    expect(eventArgument({ kind: 'pressure', level: 'critical', mode: 'hierarchy' })).toBe(
      'critical,hierarchy',
    );
    expect(eventArgument({ kind: 'usage', bytes: 64 * 2 ** 20 })).toBe(String(64 * 2 ** 20));
    expect(eventArgument({ kind: 'oom' })).toBe('');
    expect(eventFile({ kind: 'oom' })).toBe('memory.oom_control');
    expect(eventFile({ kind: 'usage', bytes: 1 })).toBe('memory.usage_in_bytes');
    expect(eventFile({ kind: 'pressure', level: 'low', mode: 'local' })).toBe('memory.pressure_level');
  });
});
