/**
 * @memshed/native against the real kernel: eventfd and POLLPRI watchers, fd hygiene, malloc_trim.
 * Needs the addon built (`npm ci` builds it) and Linux; says so and skips otherwise.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  NativeError,
  mallocTrim,
  nativeAvailability,
  watchEventfd,
  watchPriority,
  type NativeWatcher,
} from '@memshed/native';
import { MiB, exited, removeAllTestCgroups, spawnWorkload, withTestCgroup } from './support/cgroup';

const availability = nativeAvailability();
if (!availability.available) console.warn(`native kernel tests skipped: ${availability.reason}`);
const describeNative = availability.available ? describe : describe.skip;

const ADDON = path.join(__dirname, '../../packages/native/build/Release/memshed_native.node');
const UNIFIED = '/sys/fs/cgroup/unified';
const PSI_MEMORY = '/proc/pressure/memory';

afterAll(() => removeAllTestCgroups());

/** Whether every directory above `file` lets any user through, and `file` lets any user run it. */
function openToAll(file: string): boolean {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    if ((fs.statSync(dir).mode & 0o001) === 0) return false;
    if (dir === path.dirname(dir)) break;
  }
  return (fs.statSync(file).mode & 0o001) !== 0;
}

function openFds(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

function write(fd: number, value: number): void {
  const buffer = Buffer.alloc(8);
  buffer.writeBigUInt64LE(BigInt(value));
  fs.writeSync(fd, buffer);
}

/** Resolves on the next turn of the event loop after the poll phase. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function waitFor<T>(register: (resolve: (value: T) => void) => void, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    register((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}

describeNative('watchEventfd', () => {
  it('calls back with the counter, several writes before a wakeup arriving as their sum', async () => {
    const counts: number[] = [];
    // Each wait ends on the callback itself, not on a timer that a late turn could run first.
    let onCount: (() => void) | undefined;
    const watcher = watchEventfd((count) => {
      counts.push(count);
      onCount?.();
    });
    const wakeup = () => waitFor<void>((resolve) => (onCount = resolve), 1000, 'a wakeup');
    try {
      expect(watcher.fd).toBeGreaterThan(2);
      expect(fs.readlinkSync(`/proc/self/fd/${watcher.fd}`)).toBe('anon_inode:[eventfd]');
      const first = wakeup();
      write(watcher.fd, 1);
      write(watcher.fd, 2);
      await first;
      const second = wakeup();
      write(watcher.fd, 5);
      await second;
      // No further wakeup: one more turn of the loop delivers nothing.
      await new Promise((resolve) => setImmediate(resolve));
      expect(counts).toEqual([3, 5]);
    } finally {
      watcher.close();
    }
  });

  it('is non-blocking and close-on-exec', () => {
    const watcher = watchEventfd(() => undefined);
    try {
      const flags = fs.readFileSync(`/proc/self/fdinfo/${watcher.fd}`, 'utf8');
      const value = parseInt(/^flags:\s+(\d+)$/m.exec(flags)![1], 8);
      expect({
        nonblock: (value & fs.constants.O_NONBLOCK) !== 0,
        cloexec: (value & 0o2000000) !== 0,
      }).toEqual({
        nonblock: true,
        cloexec: true,
      });
    } finally {
      watcher.close();
    }
  });

  it('never calls back once closed, even with a write pending in the same turn', async () => {
    let calls = 0;
    const watcher = watchEventfd(() => calls++);
    const fd = watcher.fd;
    write(fd, 1);
    watcher.close();
    expect({ closed: watcher.closed, fd: watcher.fd }).toEqual({ closed: true, fd: -1 });
    expect(() => fs.fstatSync(fd)).toThrow(expect.objectContaining({ code: 'EBADF' }));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls).toBe(0);
    watcher.close(); // idempotent
  });

  it('may be closed from inside its callback', async () => {
    const counts: number[] = [];
    let called: (() => void) | undefined;
    const watcher: NativeWatcher = watchEventfd((count) => {
      counts.push(count);
      watcher.close();
      called?.();
    });
    const wakeup = waitFor<void>((resolve) => (called = resolve), 1000, 'a wakeup');
    write(watcher.fd, 7);
    await wakeup;
    await new Promise((resolve) => setImmediate(resolve));
    expect({ counts, closed: watcher.closed }).toEqual({ counts: [7], closed: true });
  });

  it('does not keep the event loop alive unless ref()ed', () => {
    // The timer is unref'd: only a ref'd watcher keeps the loop alive until it fires and prints.
    const script = (ref: boolean) =>
      `const n = require(${JSON.stringify(ADDON)}); const w = n.watchEventfd(() => {});` +
      (ref ? 'w.ref();' : '') +
      `setTimeout(() => { console.log('alive'); w.unref(); }, 300).unref();`;
    const run = (ref: boolean) =>
      spawnSync(process.execPath, ['-e', script(ref)], { timeout: 10_000, encoding: 'utf8' });
    expect([run(false), run(true)].map((r) => [r.status, r.stdout])).toEqual([
      [0, ''],
      [0, 'alive\n'],
    ]);
  });

  it('opens and closes 10,000 watchers without leaking a file descriptor', async () => {
    const before = openFds();
    let calls = 0;
    for (let i = 0; i < 10_000; i++) {
      const watcher = watchEventfd(() => calls++);
      write(watcher.fd, 1);
      watcher.close();
    }
    expect(openFds()).toBe(before);
    // Let libuv run the close callbacks that free the poll handles; nothing may call back.
    await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect({ fds: openFds(), calls }).toEqual({ fds: before, calls: 0 });
  });
});

describeNative('watchPriority', () => {
  it('throws NativeErrors carrying the errno name: ENOENT, EINVAL, EBUSY-free re-arm', () => {
    const missing = capture(() =>
      watchPriority('/proc/pressure/no-such-file', 'some 1 2000000', () => undefined),
    );
    expect(missing).toMatchObject({ code: 'ENOENT', syscall: 'open' });
    expect(missing.message).toContain('ENOENT');

    const invalid = capture(() => watchPriority(PSI_MEMORY, 'sometimes 1 2', () => undefined));
    expect(invalid).toMatchObject({ code: 'EINVAL', syscall: 'write' });
    expect(invalid.fix).toMatch(/some\|full/);
  });

  it('fails with EACCES for a file the process may not write (run as nobody)', () => {
    // Root bypasses file modes, so the unprivileged case runs in a child as uid 65534. The kind
    // callers give it (EACCES -> permission) is unit-tested in packages/cgroupfs (errnoKind).
    // The child must not depend on where the checkout is (a root user's clone under /root, mode
    // 700, is closed to nobody): the addon, and node itself when its directory is closed too, are
    // copied into a directory nobody can enter, which is also the child's working directory.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memshed-nobody-'));
    fs.chmodSync(dir, 0o755);
    const file = path.join(dir, 'not-writable');
    fs.writeFileSync(file, '', { mode: 0o600 });
    try {
      const addon = path.join(dir, 'memshed_native.node');
      fs.copyFileSync(ADDON, addon);
      fs.chmodSync(addon, 0o755);
      const node = openToAll(process.execPath) ? process.execPath : path.join(dir, 'node');
      if (node !== process.execPath) {
        fs.copyFileSync(process.execPath, node);
        fs.chmodSync(node, 0o755);
      }
      const script = `try { require(process.argv[1]).watchPriority(${JSON.stringify(file)}, 'x', () => {}); }
        catch (e) { console.log(JSON.stringify({ code: e.code, syscall: e.syscall, path: e.path, message: e.message })); }`;
      const child = spawnSync(node, ['-e', script, addon], {
        cwd: dir,
        uid: 65534,
        gid: 65534,
        encoding: 'utf8',
      });
      expect(child.stderr).toBe('');
      expect(JSON.parse(child.stdout)).toEqual({
        code: 'EACCES',
        syscall: 'open',
        path: file,
        message: `open ${file}: Permission denied (EACCES)`,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('arms one trigger per open file, each watcher owning its own (no EBUSY)', () => {
    const a = watchPriority(PSI_MEMORY, 'some 150000 2000000', () => undefined);
    const b = watchPriority(PSI_MEMORY, 'full 150000 2000000', () => undefined);
    try {
      expect(a.fd).not.toBe(b.fd);
      expect(fs.readlinkSync(`/proc/self/fd/${a.fd}`)).toBe(PSI_MEMORY);
    } finally {
      a.close();
      b.close();
    }
    expect({ a: a.closed, b: b.closed }).toEqual({ a: true, b: true });
  });

  it('calls back on POLLPRI when memory stalls (PSI trigger on a reclaiming workload)', async () => {
    await withTestCgroup({ name: 'psi', limitBytes: 64 * MiB, timeoutMs: 20_000 }, async (cgroup) => {
      const events: { error: boolean }[] = [];
      let onEvent: (() => void) | undefined;
      // Unprivileged (no CAP_SYS_RESOURCE): 2 s windows. 1 ms of stall in 2 s is any reclaim at all.
      const watcher = watchPriority(PSI_MEMORY, 'some 1000 2000000', (event) => {
        events.push(event);
        onEvent?.();
      });
      const child = await spawnWorkload(cgroup, { holdMiB: 40 });
      try {
        await waitFor<void>((resolve) => (onEvent = resolve), 10_000, 'a PSI POLLPRI event');
        expect(events[0]).toEqual({ error: false });
        expect(watcher.closed).toBe(false);
      } finally {
        watcher.close();
        child.kill('SIGKILL');
        await exited(child);
      }
    });
  }, 30_000);

  const unifiedUsable = fs.existsSync(path.join(UNIFIED, 'memory.pressure'));
  if (!unifiedUsable) console.warn(`POLLERR test skipped: no cgroup v2 hierarchy with PSI at ${UNIFIED}`);
  (unifiedUsable ? it : it.skip)(
    'reports POLLERR once and closes itself when the cgroup v2 group goes away',
    async () => {
      // An empty cgroup v2 group (no controllers, no tasks) only to own a memory.pressure file.
      const group = path.join(UNIFIED, `memshed-test-${process.pid}-pollerr`);
      fs.mkdirSync(group);
      try {
        const events: { error: boolean }[] = [];
        let onEvent: (() => void) | undefined;
        const watcher = watchPriority(path.join(group, 'memory.pressure'), 'some 150000 2000000', (event) => {
          events.push(event);
          onEvent?.();
        });
        const fd = watcher.fd;
        fs.rmdirSync(group);
        await waitFor<void>((resolve) => (onEvent = resolve), 5000, 'POLLERR');
        await new Promise((resolve) => setTimeout(resolve, 20));
        expect(events).toEqual([{ error: true }]);
        expect(watcher.closed).toBe(true);
        expect(() => fs.fstatSync(fd)).toThrow();
      } finally {
        if (fs.existsSync(group)) fs.rmdirSync(group);
      }
    },
  );
});

describeNative('mallocTrim', () => {
  it('hands memory of freed small Buffers back to the kernel (glibc)', () => {
    // 64 KiB Buffers are below glibc's mmap threshold, so they live in the malloc heap. Every 64th
    // one stays alive: the freed ones are holes below live chunks, which free() cannot give back
    // by trimming the heap's top, so only malloc_trim(0) (madvise on free pages) returns them.
    // V8 may free backing stores a little after gc() returns (late on a loaded machine: one CI run
    // saw 28 of 128 MiB at a single 300 ms look), so the child trims in rounds until the trims
    // have returned the freed Buffers or 5 s have passed, and reports every round.
    // Measured in a child so this process's heap is not involved.
    const script = `
      const n = require(${JSON.stringify(ADDON)});
      const rss = () => Number(require('fs').readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;
      const kept = [];
      let map = new Map();
      for (let i = 0; i < 2048; i++) {
        const buffer = Buffer.allocUnsafeSlow(64 * 1024).fill(1);
        if (i % 64 === 63) kept.push(buffer); else map.set(i, buffer);
      }
      const peak = rss();
      map.clear(); map = undefined;
      const rounds = [];
      const started = Date.now();
      let result;
      (function round() {
        gc(); gc();
        const before = rss();
        result = n.mallocTrim();
        rounds.push(before - rss());
        const trimmed = rounds.reduce((a, b) => a + b, 0);
        if (trimmed > 112 * 1024 * 1024 || Date.now() - started > 5000) {
          console.log(JSON.stringify({ result, trimmed, rounds, released: peak - rss(), kept: kept.length }));
        } else setTimeout(round, 100);
      })();`;
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--no-concurrent-array-buffer-sweeping', '-e', script],
      {
        encoding: 'utf8',
        timeout: 15_000,
      },
    );
    expect(child.status).toBe(0);
    const report = JSON.parse(child.stdout) as {
      result: { available: boolean; released: boolean };
      trimmed: number;
      rounds: number[];
      released: number;
    };
    console.log(
      `malloc_trim returned ${(report.trimmed / MiB).toFixed(1)} MiB after 124 MiB of Buffers were freed, in ` +
        `${report.rounds.length} round(s) (${report.rounds.map((r) => (r / MiB).toFixed(1)).join(', ')} MiB)`,
    );
    expect(report.result).toEqual({ available: true, released: true });
    // 1984 freed Buffers are 124 MiB; malloc_trim keeps a page here and there (chunk headers).
    expect(report.trimmed).toBeGreaterThan(112 * MiB);
  });

  it('never throws: it reports why when unavailable', () => {
    expect(mallocTrim()).toMatchObject({ available: true });
  });
});

function capture(fn: () => unknown): NativeError {
  try {
    fn();
  } catch (error) {
    if (error instanceof NativeError) return error;
    throw error;
  }
  throw new Error('expected a NativeError');
}
