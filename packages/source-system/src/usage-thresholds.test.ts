import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemshedError } from '@memshed/core';
import type { NativeWatcher } from '@memshed/native';
import { armUsageThresholds } from './usage-thresholds';

const DIR = 'sys/fs/cgroup/memory/process_api/test';
const FIXTURES = path.join(
  path.dirname(require.resolve('@memshed/cgroupfs/package.json')),
  'src/__fixtures__',
);

/** Eventfd watchers that record themselves, so the test sees what was registered and closed. */
function fakeEventfds() {
  const watchers: (NativeWatcher & { fire(): void })[] = [];
  const factory = (callback: (count: number) => void) => {
    const watcher = {
      fd: 100 + watchers.length,
      closed: false,
      paused: false,
      close() {
        watcher.closed = true;
      },
      ref() {
        return watcher;
      },
      unref() {
        return watcher;
      },
      pause() {
        watcher.paused = true;
        return watcher;
      },
      resume() {
        watcher.paused = false;
        return watcher;
      },
      fire: () => callback(1),
    };
    watchers.push(watcher);
    return watcher;
  };
  return { watchers, factory };
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('armUsageThresholds', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'memshed-thresholds-'));
    cpSync(path.join(FIXTURES, 'cgroup-v1'), root, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const directory = () => path.join(root, DIR);

  it('registers one eventfd per distinct finite threshold, ascending, as "<efd> <usage fd> <bytes>"', () => {
    const { watchers, factory } = fakeEventfds();
    const crossings: number[] = [];
    const armed = armUsageThresholds(
      directory(),
      [300, Infinity, 200, 300],
      () => crossings.push(1),
      factory,
    );
    expect(armed.bytes).toEqual([200, 300]);
    expect(watchers).toHaveLength(2);
    // The fixture's plain file keeps every registration, the highest threshold last.
    expect(readFileSync(path.join(directory(), 'cgroup.event_control'), 'utf8')).toMatch(/\n101 \d+ 300\n$/);
    watchers[1].fire();
    expect(crossings).toEqual([1]);
    armed.track(250);
    expect(watchers.map((w) => w.paused)).toEqual([true, false]); // 200 reached, 300 still ahead
    armed.track(300);
    expect(watchers.map((w) => w.paused)).toEqual([true, true]);
    armed.track(100);
    expect(watchers.map((w) => w.paused)).toEqual([false, false]);
    armed.close();
    expect(watchers.every((w) => w.closed)).toBe(true);
  });

  it('holds no file open while armed (the eventfds are the registrations), and closes them once', () => {
    const before = openFds();
    const { watchers, factory } = fakeEventfds();
    const armed = armUsageThresholds(directory(), [100], () => undefined, factory);
    expect(openFds()).toBe(before);
    armed.close();
    armed.close();
    expect(watchers.map((w) => w.closed)).toEqual([true]);
    expect(openFds()).toBe(before);
  });

  it('releases what it armed and says why when the kernel refuses', () => {
    const { watchers, factory } = fakeEventfds();
    const before = openFds();
    const attempt = () =>
      armUsageThresholds(path.join(root, 'missing'), [100, 200], () => undefined, factory);
    expect(attempt).toThrow(MemshedError);
    expect(attempt).toThrow(/Could not register a usage threshold on .*missing\/cgroup.event_control/);
    try {
      attempt();
    } catch (error) {
      expect(MemshedError.is(error, 'unavailable')).toBe(true);
    }
    expect(watchers.every((w) => w.closed)).toBe(true);
    expect(openFds()).toBe(before);
  });
});
