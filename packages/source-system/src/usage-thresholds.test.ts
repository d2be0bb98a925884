import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MemshedError } from '@memshed/core';
import type { NativeWatcher } from '@memshed/native';
import { armUsageThresholds } from './usage-thresholds';

const DIR = 'sys/fs/cgroup/memory/process_api/test';

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
    cpSync(path.join(__dirname, '__fixtures__/cgroup-v1'), root, { recursive: true });
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const files = () => ({
    usage: path.join(root, DIR, 'memory.usage_in_bytes'),
    eventControl: path.join(root, DIR, 'cgroup.event_control'),
  });

  it('registers one eventfd per distinct finite threshold, ascending, as "<efd> <usage fd> <bytes>"', () => {
    const { watchers, factory } = fakeEventfds();
    const crossings: number[] = [];
    const armed = armUsageThresholds(files(), [300, Infinity, 200, 300], () => crossings.push(1), factory);
    expect(armed.bytes).toEqual([200, 300]);
    expect(watchers).toHaveLength(2);
    // A plain file keeps the last write: the registration of the highest threshold.
    expect(readFileSync(files().eventControl, 'utf8')).toMatch(/^101 \d+ 300$/);
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

  it('holds the usage file open while armed, and releases it on close', () => {
    const before = openFds();
    const armed = armUsageThresholds(files(), [100], () => undefined, fakeEventfds().factory);
    expect(openFds()).toBe(before + 1);
    armed.close();
    armed.close();
    expect(openFds()).toBe(before);
  });

  it('releases what it armed and says why when the kernel refuses', () => {
    const { watchers, factory } = fakeEventfds();
    const before = openFds();
    const attempt = () =>
      armUsageThresholds(
        { ...files(), eventControl: path.join(root, 'missing/cgroup.event_control') },
        [100, 200],
        () => undefined,
        factory,
      );
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
