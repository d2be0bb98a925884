import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMemshed, type MemshedError, type PressureEvent } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import type { NativeWatcher } from '@memshed/native';
import { CgroupV1Memory } from '@memshed/cgroupfs';
import systemSourceModule, { SystemSource, systemSourceOptionsSchema } from './index';
import type { SystemSourceEnvironment } from './system-environment';
import type { SystemSourceOptionsInput } from './system-source-options';

const MiB = 1024 * 1024;
const FIXTURES = path.join(
  path.dirname(require.resolve('@memshed/cgroupfs/package.json')),
  'src/__fixtures__',
);
const V1_GROUP = 'sys/fs/cgroup/memory/process_api/test';
const V2_GROUP = 'sys/fs/cgroup/system.slice/app.service';

const roots: string[] = [];
function copyFixture(name: string): string {
  const root = mkdtempSync(path.join(tmpdir(), `memshed-system-${name}-`));
  cpSync(path.join(FIXTURES, name), root, { recursive: true });
  roots.push(root);
  return root;
}
afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

type FakeWatcher = NativeWatcher & { fire(): void };

/** A machine made of a fixture tree and fakes the test drives. */
function fakeEnvironment(overrides: Partial<SystemSourceEnvironment> = {}) {
  const eventfds: FakeWatcher[] = [];
  const fileWatches: { file: string; onChange: () => void; closed: boolean }[] = [];
  const sysctl: string[] = [];
  const environment: SystemSourceEnvironment = {
    platform: 'linux',
    process: { constrainedMemory: () => undefined, rss: () => 0 },
    os: { totalmem: () => 16e9, freemem: () => 8e9 },
    sysctl: async () => sysctl.shift() ?? '1',
    eventfd: () => ({
      available: true,
      watch: (callback) => {
        const state = { closed: false, paused: false };
        const watcher: FakeWatcher = {
          fd: 100 + eventfds.length,
          get closed() {
            return state.closed;
          },
          get paused() {
            return state.paused;
          },
          close: () => void (state.closed = true),
          ref: () => watcher,
          unref: () => watcher,
          pause: () => ((state.paused = true), watcher),
          resume: () => ((state.paused = false), watcher),
          fire: () => {
            if (!state.paused && !state.closed) callback(1);
          },
        };
        eventfds.push(watcher);
        return watcher;
      },
    }),
    watchFile: (file, onChange) => {
      const watch = { file, onChange, closed: false };
      fileWatches.push(watch);
      return { close: () => void (watch.closed = true) };
    },
    ...overrides,
  };
  return { environment, eventfds, fileWatches, sysctl };
}

/**
 * Starts the source on a manual clock. The time-to-limit part is off unless `options` turns it on:
 * these tests follow the thresholds' reads and eventfds, which its floor and faster reads would
 * add to (it has its own tests below).
 */
async function start(options: SystemSourceOptionsInput, environment: SystemSourceEnvironment) {
  if (options.container !== false) {
    options = { ...options, container: { timeToLimit: false, ...options.container } };
  }
  const scheduler = new ManualScheduler(0);
  const warnings: string[] = [];
  const logged: string[] = [];
  const logger = {
    debug: () => {},
    info: () => {},
    warn: (m: string) => warnings.push(m),
    error: (m: string) => logged.push(m),
  };
  const source = new SystemSource(systemSourceOptionsSchema.parse(options), environment);
  const memshed = await createMemshed({ sources: [source], scheduler, logger });
  const events: PressureEvent[] = [];
  const errors: MemshedError[] = [];
  memshed.events$.subscribe((event) => events.push(event));
  memshed.errors$.subscribe((error) => errors.push(error));
  scheduler.flush();
  const levels = () => events.map((e) => [e.scope, e.level, e.time]);
  return { scheduler, source, memshed, events, errors, warnings, logged, levels };
}

function writeV1(root: string, usage: number, inactiveFile = 0): void {
  const dir = path.join(root, V1_GROUP);
  writeFileSync(path.join(dir, 'memory.usage_in_bytes'), `${usage}\n`);
  const stat = readFileSync(path.join(dir, 'memory.stat'), 'utf8').replace(
    /^total_inactive_file \d+$/m,
    `total_inactive_file ${inactiveFile}`,
  );
  writeFileSync(path.join(dir, 'memory.stat'), stat);
}

describe(SystemSource, () => {
  describe('.start (cgroup v1, event-driven)', () => {
    it('arms usage thresholds at 75% and 85% of the limit and does not poll while below them', async () => {
      const root = copyFixture('cgroup-v1');
      const { environment, eventfds } = fakeEnvironment();
      const { scheduler, source, events, memshed } = await start({ root, host: false }, environment);
      expect(source.containerMode).toBe('eventfd');
      expect(eventfds.map((w) => w.closed)).toEqual([false, false]);
      expect(readFileSync(path.join(root, V1_GROUP, 'cgroup.event_control'), 'utf8')).toMatch(
        new RegExp(`\\n101 \\d+ ${Math.round(0.85 * 256 * MiB)}\\n$`),
      );
      expect(scheduler.pending).toBe(0); // nothing wakes the process
      scheduler.advanceBy(60_000);
      expect(events).toEqual([]);
      await memshed.stop();
      expect(eventfds.every((w) => w.closed)).toBe(true);
    });

    it('signals medium at <scope>/container when the kernel says usage crossed, follows while above, then rests', async () => {
      const root = copyFixture('cgroup-v1');
      const { environment, eventfds } = fakeEnvironment();
      const { scheduler, levels, memshed } = await start({ root, host: false }, environment);
      const reads = jest.spyOn(CgroupV1Memory.prototype, 'sample');
      writeV1(root, 200 * MiB);
      eventfds[0].fire();
      scheduler.flush();
      expect(levels()).toEqual([['/system/container', 'medium', 0]]);
      expect(reads).toHaveBeenCalledTimes(1);
      scheduler.advanceBy(500);
      expect(reads).toHaveBeenCalledTimes(3); // following: read every 250 ms while above
      // Polling above 75%: its crossings say nothing new; 85% still wakes the process at once.
      expect(eventfds.map((w) => w.paused)).toEqual([true, false]);

      writeV1(root, 230 * MiB); // past 85%: the kernel says so at once
      eventfds[1].fire();
      scheduler.flush();
      expect(levels().slice(1)).toEqual([['/system/container', 'critical', 500]]);
      expect(eventfds.map((w) => w.paused)).toEqual([true, true]);

      scheduler.advanceBy(1000); // repeated every second while it holds
      expect(levels().slice(2)).toEqual([['/system/container', 'critical', 1500]]);

      writeV1(root, 100 * MiB);
      scheduler.advanceBy(250);
      reads.mockClear();
      scheduler.advanceBy(10_000);
      expect(reads).not.toHaveBeenCalled(); // back below: the kernel will say when it crosses again
      expect(eventfds.map((w) => w.paused)).toEqual([false, false]);
      reads.mockRestore();
      await memshed.stop();
    });

    it('judges the working set: page cache alone does not alarm, but is followed', async () => {
      const root = copyFixture('cgroup-v1');
      const { environment, eventfds } = fakeEnvironment();
      const { scheduler, events, memshed } = await start({ root, host: false }, environment);
      writeV1(root, 230 * MiB, 100 * MiB); // usage 90%, working set 51%
      eventfds[1].fire();
      scheduler.flush();
      expect(events).toEqual([]);
      expect(scheduler.pending).toBe(1); // following
      writeV1(root, 230 * MiB, 20 * MiB); // the cache was anonymous memory after all: 82%
      scheduler.advanceBy(250);
      expect(events.map((e) => e.level)).toEqual(['medium']);
      await memshed.stop();
    });

    it('compares raw usage with measure: usage', async () => {
      const root = copyFixture('cgroup-v1');
      writeV1(root, 230 * MiB, 100 * MiB);
      const { environment } = fakeEnvironment();
      const { events, memshed } = await start(
        { root, host: false, container: { measure: 'usage' } },
        environment,
      );
      expect(events.map((e) => e.level)).toEqual(['critical']);
      await memshed.stop();
    });

    it('re-arms when the limit moves', async () => {
      const root = copyFixture('cgroup-v1');
      const { environment, eventfds } = fakeEnvironment();
      const { scheduler, memshed } = await start({ root, host: false }, environment);
      const dir = path.join(root, V1_GROUP);
      writeFileSync(path.join(dir, 'memory.limit_in_bytes'), String(128 * MiB));
      writeFileSync(
        path.join(dir, 'memory.stat'),
        readFileSync(path.join(dir, 'memory.stat'), 'utf8').replace(
          /^hierarchical_memory_limit \d+$/m,
          `hierarchical_memory_limit ${128 * MiB}`,
        ),
      );
      writeV1(root, 50 * MiB);
      eventfds[0].fire();
      scheduler.flush();
      expect(eventfds.map((w) => w.closed)).toEqual([true, true, false, false]);
      expect(readFileSync(path.join(dir, 'cgroup.event_control'), 'utf8')).toMatch(
        new RegExp(` ${Math.round(0.85 * 128 * MiB)}\\n$`),
      );
      await memshed.stop();
    });

    it('polls, and says why, where the native addon is unavailable', async () => {
      const root = copyFixture('cgroup-v1');
      const { environment } = fakeEnvironment({
        eventfd: () => ({ available: false, reason: 'the addon is not built' }),
      });
      const { scheduler, source, events, warnings, memshed } = await start(
        { root, host: false },
        environment,
      );
      expect(source.containerMode).toBe('poll');
      expect(warnings).toEqual([
        "source 'system': cgroup v1 usage thresholds unavailable (native addon unavailable: the addon is not built); polling /process_api/test every 250 ms",
      ]);
      // The status says what happens (polling), before start (memshed.sources) and after.
      const polling = expect.stringContaining(
        '(polled every 250 ms: usage thresholds unavailable, native addon unavailable: the addon is not built)',
      );
      expect(memshed.sources[0].availability).toMatchObject({ detail: polling });
      expect(source.availability()).toMatchObject({ detail: polling });
      writeV1(root, 200 * MiB);
      scheduler.advanceBy(250);
      expect(events.map((e) => [e.level, e.time])).toEqual([['medium', 250]]);
      await memshed.stop();
      expect(scheduler.pending).toBe(0);
    });

    it('polls when asked to', async () => {
      const root = copyFixture('cgroup-v1');
      const { environment, eventfds } = fakeEnvironment();
      const { source, scheduler, memshed } = await start(
        { root, host: false, container: { notify: 'poll' } },
        environment,
      );
      expect(source.containerMode).toBe('poll');
      expect(eventfds).toEqual([]);
      expect(scheduler.pending).toBe(1);
      await memshed.stop();
    });

    it('reports the cgroup going away and stops watching it', async () => {
      const root = copyFixture('cgroup-v1');
      const { environment, eventfds } = fakeEnvironment();
      const { scheduler, errors, memshed } = await start({ root, host: false }, environment);
      rmSync(path.join(root, V1_GROUP), { recursive: true });
      eventfds[0].fire(); // the kernel signals registrations when the group is removed
      scheduler.flush();
      expect(errors).toHaveLength(1);
      expect(errors[0].message).toContain(
        "Source 'system': cgroup /process_api/test is gone; stopped watching it",
      );
      expect(errors[0].message).toContain('ENOENT');
      expect(eventfds.every((w) => w.closed)).toBe(true);
      expect(memshed.sources[0].headroom).toEqual([]); // no reading of a group that is gone
      await memshed.stop();
    });
  });

  describe('.start (cgroup v2)', () => {
    it("polls memory.current against the parent's memory.max", async () => {
      const root = copyFixture('cgroup-v2');
      const { environment } = fakeEnvironment();
      const { scheduler, source, levels, memshed } = await start({ root, host: false }, environment);
      expect(source.containerMode).toBe('poll');
      writeFileSync(path.join(root, V2_GROUP, 'memory.current'), String(250 * MiB));
      scheduler.advanceBy(250);
      expect(levels()).toEqual([['/system/container', 'critical', 250]]);
      await memshed.stop();
      expect(scheduler.pending).toBe(0);
    });

    it('signals critical at once on a new high, max or OOM event in memory.events', async () => {
      const root = copyFixture('cgroup-v2');
      const { environment, fileWatches } = fakeEnvironment();
      const { scheduler, levels, memshed } = await start({ root, host: false }, environment);
      expect(fileWatches.map((w) => w.file)).toEqual([path.join(root, V2_GROUP, 'memory.events')]);
      writeFileSync(path.join(root, V2_GROUP, 'memory.events'), 'low 5\nhigh 0\nmax 0\noom 0\noom_kill 0\n');
      fileWatches[0].onChange();
      scheduler.flush();
      expect(levels()).toEqual([]); // memory.low breaches are not pressure on the group
      writeFileSync(path.join(root, V2_GROUP, 'memory.events'), 'low 5\nhigh 3\nmax 0\noom 0\noom_kill 0\n');
      fileWatches[0].onChange();
      scheduler.flush();
      expect(levels()).toEqual([['/system/container', 'critical', 0]]);
      await memshed.stop();
      expect(fileWatches[0].closed).toBe(true);
    });
  });

  describe('.start (constrained memory)', () => {
    it("compares this process's RSS with process.constrainedMemory() when no cgroup is readable", async () => {
      let rss = 100 * MiB;
      const { environment } = fakeEnvironment({
        process: { constrainedMemory: () => 512 * MiB, rss: () => rss },
      });
      const root = copyFixture('no-cgroup');
      const { scheduler, levels, memshed } = await start({ root, host: false }, environment);
      rss = 400 * MiB;
      scheduler.advanceBy(250);
      expect(levels()).toEqual([['/system/container', 'medium', 250]]);
      await memshed.stop();
    });
  });

  describe('.start (host)', () => {
    it("signals medium from Linux MemAvailable with Chromium's thresholds (80% used here)", async () => {
      const root = copyFixture('no-cgroup');
      const { environment } = fakeEnvironment();
      const { scheduler, levels, memshed } = await start({ root, container: false }, environment);
      expect(levels()).toEqual([['/system/host', 'medium', 0]]);
      writeFileSync(path.join(root, 'proc/meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 140 kB\n');
      scheduler.advanceBy(1000);
      writeFileSync(path.join(root, 'proc/meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 900 kB\n');
      scheduler.advanceBy(1000);
      expect(levels()).toEqual([
        ['/system/host', 'medium', 0],
        ['/system/host', 'critical', 1000],
      ]);
      await memshed.stop();
    });

    it('reports the memory in use against the total in memshed.sources[].headroom, without a time to limit', async () => {
      const root = copyFixture('no-cgroup');
      writeFileSync(path.join(root, 'proc/meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 600 kB\n');
      const { environment } = fakeEnvironment();
      const { scheduler, memshed } = await start({ root, container: false }, environment);
      const host = (used: number, time: number) => ({
        target: 'host',
        usedBytes: used * 1024,
        limitBytes: 1000 * 1024,
        growthBytesPerSecond: undefined,
        timeToLimitMs: undefined,
        time,
      });
      expect(memshed.sources[0].headroom).toEqual([host(400, 0)]);
      writeFileSync(path.join(root, 'proc/meminfo'), 'MemTotal: 1000 kB\nMemAvailable: 100 kB\n');
      scheduler.advanceBy(1000);
      expect(memshed.sources[0].headroom).toEqual([host(900, 1000)]);
      rmSync(path.join(root, 'proc/meminfo'));
      scheduler.advanceBy(1000);
      expect(memshed.sources[0].headroom).toEqual([]); // unreadable: no reading rather than an old one
      await memshed.stop();
      expect(memshed.sources[0].headroom).toEqual([]);
    });

    it('has no host headroom where the OS says a level rather than bytes (macOS)', async () => {
      const { environment, sysctl } = fakeEnvironment({ platform: 'darwin' });
      sysctl.push('4\n');
      const { scheduler, levels, memshed } = await start({ container: false }, environment);
      await new Promise((resolve) => setImmediate(resolve));
      scheduler.flush();
      expect(levels()).toEqual([['/system/host', 'critical', 0]]); // read and judged
      expect(memshed.sources[0].headroom).toEqual([]);
      await memshed.stop();
    });

    it("signals the level macOS decided, from sysctl's output", async () => {
      const { environment, sysctl } = fakeEnvironment({ platform: 'darwin' });
      sysctl.push('1\n', '2\n', '4\n', '1\n');
      const { scheduler, levels, memshed } = await start(
        { container: false, host: { interval: '2s' } },
        environment,
      );
      for (let i = 0; i < 3; i++) {
        scheduler.advanceBy(2000);
        await Promise.resolve();
        await Promise.resolve();
        scheduler.flush();
      }
      expect(levels()).toEqual([
        ['/system/host', 'medium', 2000],
        ['/system/host', 'critical', 4000],
      ]);
      await memshed.stop();
    });

    it('reports a failing reader once per run of failures', async () => {
      const { environment } = fakeEnvironment({
        platform: 'darwin',
        sysctl: async () => 'sysctl: unknown oid',
      });
      const { scheduler, logged, memshed } = await start({ container: false }, environment);
      for (let i = 0; i < 3; i++) {
        scheduler.advanceBy(1000);
        await new Promise((resolve) => setImmediate(resolve));
      }
      // The first failure came during start, before errors$ could be subscribed to: read the log.
      expect(logged).toEqual([
        `Source 'system' could not read kern.memorystatus_vm_pressure_level (sysctl): unexpected sysctl output: "sysctl: unknown oid"`,
      ]);
      await memshed.stop();
    });

    it("signals critical from Windows' memory load", async () => {
      const { environment } = fakeEnvironment({
        platform: 'win32',
        os: { totalmem: () => 16e9, freemem: () => 1.6e9 },
      });
      const { levels, memshed } = await start({ container: false }, environment);
      expect(levels()).toEqual([['/system/host', 'critical', 0]]);
      await memshed.stop();
    });
  });

  describe('.start (time to limit)', () => {
    /** Writes usage growing at `rate` MiB/s from `from` MiB, then lets every 100 ms of reads run. */
    function grow(
      root: string,
      scheduler: ManualScheduler,
      options: { from: number; rate: number; until: number; write: (root: string, bytes: number) => void },
    ): void {
      for (let elapsed = 100; elapsed <= options.until; elapsed += 100) {
        options.write(root, (options.from + (options.rate * elapsed) / 1000) * MiB);
        scheduler.advanceBy(100);
      }
    }

    it('cgroup v1: wakes at the floor, reads every 100 ms; with critical: 1s, medium at 250 MiB/s before 75% is reached, critical past it', async () => {
      const root = copyFixture('cgroup-v1');
      writeV1(root, 100 * MiB);
      const { environment, eventfds } = fakeEnvironment();
      const { scheduler, events, memshed } = await start(
        { root, host: false, container: { timeToLimit: { critical: '1s' } } },
        environment,
      );
      // The floor (50% of 256 MiB) is armed below the thresholds: nothing is read until it is crossed.
      expect(readFileSync(path.join(root, V1_GROUP, 'cgroup.event_control'), 'utf8')).toContain(
        ` ${128 * MiB}\n`,
      );
      const reads = jest.spyOn(CgroupV1Memory.prototype, 'sample');
      scheduler.advanceBy(10_000);
      expect(reads).not.toHaveBeenCalled();

      writeV1(root, 130 * MiB);
      eventfds[0].fire();
      scheduler.flush();
      grow(root, scheduler, { from: 130, rate: 250, until: 200, write: writeV1 });
      expect(reads).toHaveBeenCalledTimes(3);
      // 180 MiB at 250 MiB/s: the limit in 0.3 s, while usage is still below 75% (192 MiB): medium,
      // the level of the actions that keep up with fast growth (critical would shed work).
      expect(events.map((e) => [e.level, e.time - 10_000, e.reason])).toEqual([
        ['medium', 200, 'limit in 0.3 s at 250 MiB/s'],
      ]);
      grow(root, scheduler, { from: 180, rate: 250, until: 200, write: writeV1 });
      // Past 75% the prediction's critical stands; signalled at every reading while it holds, not
      // only every `repeat`.
      expect(events.map((e) => [e.level, e.time - 10_000])).toEqual([
        ['medium', 200],
        ['critical', 300],
        ['critical', 400],
      ]);

      writeV1(root, 100 * MiB); // freed: below the floor, back to waiting for the kernel
      scheduler.advanceBy(100);
      reads.mockClear();
      scheduler.advanceBy(10_000);
      expect(reads).not.toHaveBeenCalled();
      reads.mockRestore();
      await memshed.stop();
    });

    it('cgroup v2: medium at 25 MiB/s when the limit is under 3 s away, before the 75% threshold', async () => {
      const root = copyFixture('cgroup-v2');
      const current = path.join(root, V2_GROUP, 'memory.current');
      const write = (_: string, bytes: number) => writeFileSync(current, String(Math.round(bytes)));
      write(root, 100 * MiB);
      const { environment } = fakeEnvironment();
      const { scheduler, events, memshed } = await start(
        { root, host: false, container: { measure: 'usage', timeToLimit: {} } },
        environment,
      );
      scheduler.advanceBy(250);
      write(root, 150 * MiB);
      scheduler.advanceBy(250); // past the floor: from now on read every 100 ms
      grow(root, scheduler, { from: 150, rate: 25, until: 1500, write });
      // 182.5 MiB at 1.3 s: 73.5 MiB left, 2.9 s at 25 MiB/s; 75% (192 MiB) comes only at 1.68 s.
      expect(events.map((e) => [e.level, e.time - 500, e.reason])).toEqual([
        ['medium', 1300, 'limit in 2.9 s at 25 MiB/s'],
        ['medium', 1400, 'limit in 2.8 s at 25 MiB/s'],
        ['medium', 1500, 'limit in 2.7 s at 25 MiB/s'],
      ]);
      await memshed.stop();
      expect(scheduler.pending).toBe(0);
    });

    it('does not signal a one-off jump that stays below the thresholds', async () => {
      const root = copyFixture('cgroup-v2');
      const current = path.join(root, V2_GROUP, 'memory.current');
      writeFileSync(current, String(130 * MiB));
      const { environment } = fakeEnvironment();
      const { scheduler, events, memshed } = await start(
        { root, host: false, container: { measure: 'usage', timeToLimit: {} } },
        environment,
      );
      scheduler.advanceBy(1000);
      writeFileSync(current, String(190 * MiB));
      scheduler.advanceBy(3000);
      expect(events).toEqual([]);
      await memshed.stop();
    });

    it('reports usage, limit, growth rate and time to limit in memshed.sources[].headroom while it runs', async () => {
      const root = copyFixture('cgroup-v2');
      const current = path.join(root, V2_GROUP, 'memory.current');
      const write = (_: string, bytes: number) => writeFileSync(current, String(Math.round(bytes)));
      write(root, 150 * MiB);
      const { environment } = fakeEnvironment();
      const { scheduler, memshed } = await start(
        { root, host: false, container: { measure: 'usage', timeToLimit: {} } },
        environment,
      );
      const container = (usedMiB: number, time: number, growth?: number, timeToLimitMs = Infinity) => ({
        target: 'container',
        usedBytes: usedMiB * MiB,
        limitBytes: 256 * MiB,
        growthBytesPerSecond: growth,
        timeToLimitMs,
        time,
      });
      expect(memshed.sources[0].headroom).toEqual([container(150, 0)]);
      grow(root, scheduler, { from: 150, rate: 50, until: 100, write });
      // Two readings: one interval of growth is no trend yet (samples: 3).
      expect(memshed.sources[0].headroom).toEqual([container(155, 100)]);
      grow(root, scheduler, { from: 155, rate: 50, until: 100, write });
      // 96 MiB left at 50 MiB/s.
      expect(memshed.sources[0].headroom).toEqual([container(160, 200, 50 * MiB, 1920)]);
      grow(root, scheduler, { from: 160, rate: 0, until: 100, write });
      // Growth stopped: no rate, the limit no longer comes.
      expect(memshed.sources[0].headroom).toEqual([container(160, 300)]);
      await memshed.stop();
      expect(memshed.sources[0].headroom).toEqual([]);
    });

    it('reports usage and limit without growth or time to limit with timeToLimit: false', async () => {
      const root = copyFixture('cgroup-v2');
      writeFileSync(path.join(root, V2_GROUP, 'memory.current'), String(200 * MiB));
      const { environment } = fakeEnvironment();
      const { memshed } = await start({ root, host: false, container: { measure: 'usage' } }, environment);
      expect(memshed.sources[0].headroom).toEqual([
        {
          target: 'container',
          usedBytes: 200 * MiB,
          limitBytes: 256 * MiB,
          growthBytesPerSecond: undefined,
          timeToLimitMs: undefined,
          time: 0,
        },
      ]);
      await memshed.stop();
    });

    it('reports the rate and the time left in memshed.sources[].detail while it runs', async () => {
      const root = copyFixture('cgroup-v2');
      const current = path.join(root, V2_GROUP, 'memory.current');
      const write = (_: string, bytes: number) => writeFileSync(current, String(Math.round(bytes)));
      write(root, 150 * MiB);
      const { environment } = fakeEnvironment();
      const { scheduler, memshed } = await start(
        { root, host: false, container: { measure: 'usage', timeToLimit: {} } },
        environment,
      );
      expect(memshed.sources[0].detail).toBe('container not growing');
      grow(root, scheduler, { from: 150, rate: 50, until: 300, write });
      expect(memshed.sources[0].detail).toBe('container growing 50 MiB/s, limit in 1.8 s');
      await memshed.stop();
      expect(memshed.sources[0]).toMatchObject({
        state: 'stopped',
        detail: expect.stringContaining('cgroup-v2'),
      });
    });
  });

  describe('.availability', () => {
    it('describes what it will watch', () => {
      const root = copyFixture('cgroup-v1');
      const source = new SystemSource(
        systemSourceOptionsSchema.parse({ root }),
        fakeEnvironment().environment,
      );
      expect(source.availability()).toEqual({
        available: true,
        detail:
          'cgroup-v1 /process_api/test: 144.6 MiB of 256 MiB, medium at 75%, critical at 85%, ' +
          'or when the limit is less than 3s (medium) away at the growth rate (usage thresholds by eventfd); ' +
          'host MemAvailable (/proc/meminfo)',
        scope: 'cgroup',
      });
    });

    it('says why a container without a limit is not watched', () => {
      const root = copyFixture('cgroup-v2');
      writeFileSync(path.join(root, 'sys/fs/cgroup/system.slice/memory.max'), 'max\n');
      const { environment } = fakeEnvironment({ platform: 'freebsd' });
      expect(new SystemSource(systemSourceOptionsSchema.parse({ root }), environment).availability()).toEqual(
        {
          available: false,
          reason:
            'cgroup-v2 /system.slice/app.service has no memory limit: container headroom not watched; no host memory reader for platform freebsd',
          hint: 'on Linux, mount /proc and the cgroup filesystem; elsewhere use Node >= 19.6 for process.constrainedMemory()',
        },
      );
    });

    it('watches an unlimited container against absolute thresholds', () => {
      const root = copyFixture('cgroup-v2');
      writeFileSync(path.join(root, 'sys/fs/cgroup/system.slice/memory.max'), 'max\n');
      const { environment } = fakeEnvironment();
      const source = new SystemSource(
        systemSourceOptionsSchema.parse({
          root,
          host: false,
          container: { medium: '200MiB', critical: '300MiB' },
        }),
        environment,
      );
      expect(source.availability()).toMatchObject({
        available: true,
        detail: expect.stringContaining('medium at 200 MiB'),
      });
    });

    it('is unavailable when the cgroup it is told to watch does not exist (not the host in its place)', async () => {
      const root = copyFixture('cgroup-v1');
      const options = { root, container: { cgroup: '/nowhere' } };
      const source = new SystemSource(
        systemSourceOptionsSchema.parse(options),
        fakeEnvironment().environment,
      );
      expect(source.availability()).toEqual({
        available: false,
        reason: 'cgroup /nowhere not found in a v1 memory or v2 hierarchy',
        hint: expect.stringContaining('fix the `container.cgroup` option'),
      });
      const { memshed } = await start(options, fakeEnvironment().environment);
      expect(memshed.sources[0].state).toBe('unavailable');
      await memshed.stop();
    });

    it('is unavailable, and does not start, with both parts off or missing', async () => {
      const { environment } = fakeEnvironment({ platform: 'aix' });
      const { memshed } = await start({ root: copyFixture('no-cgroup') }, environment);
      expect(memshed.sources[0].state).toBe('unavailable');
      await memshed.stop();
    });
  });

  describe('.headroom', () => {
    it("lists the container's headroom and the host's, one reading per target, no cgroup path in them", async () => {
      const root = copyFixture('cgroup-v1');
      const { environment } = fakeEnvironment();
      const { memshed } = await start({ root }, environment);
      const readings = memshed.sources[0].headroom ?? [];
      expect(readings.map((reading) => [reading.target, reading.limitBytes])).toEqual([
        ['container', 256 * MiB],
        ['host', expect.any(Number)],
      ]);
      expect(JSON.stringify(readings)).not.toContain('process_api');
      await memshed.stop();
    });

    it('is empty before start', () => {
      const source = new SystemSource(
        systemSourceOptionsSchema.parse({ root: copyFixture('cgroup-v1') }),
        fakeEnvironment().environment,
      );
      expect(source.headroom()).toEqual([]);
    });
  });

  describe('.stop', () => {
    it('releases every eventfd and timer, and is idempotent', async () => {
      const root = copyFixture('cgroup-v1');
      writeV1(root, 200 * MiB);
      const { environment, eventfds } = fakeEnvironment();
      const { scheduler, source, memshed } = await start({ root }, environment);
      expect(scheduler.pending).toBe(3); // following the container, polling the host, the monitor's recovery
      await memshed.stop();
      source.stop();
      expect(scheduler.pending).toBe(0);
      expect(eventfds.every((w) => w.closed)).toBe(true);
    });
  });
});

describe('the system module', () => {
  it('is bound by the default module under id system and starts on this machine', async () => {
    const memshed = await createMemshed({
      modules: [systemSourceModule],
      sources: [{ use: 'system', with: { container: { notify: 'poll' } } }],
    });
    expect(memshed.sources.map((s) => [s.id, s.state])).toEqual([['system', 'running']]);
    await memshed.stop();
  });

  it('rejects invalid options with the key path', async () => {
    await expect(
      createMemshed({
        modules: [systemSourceModule],
        sources: [{ use: 'system', with: { container: { medium: '75 percent' } } }],
      }),
    ).rejects.toThrow("sources[0].with.container.medium: Invalid threshold '75 percent'");
  });
});
