import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MemshedError,
  createMemshed,
  loadPlugins,
  type Logger,
  type Memshed,
  type PressureEvent,
} from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import type { NativeAvailability, NativeWatcher } from '@memshed/native';
import cgroupV1Module, { CgroupV1Source, cgroupV1OptionsSchema, type CgroupV1Host } from './index';

/** A watcher the test fires by hand, standing in for a kernel eventfd (a counter). */
class FakeWatcher implements NativeWatcher {
  closed = false;
  paused = false;
  private counter = 0;
  constructor(
    readonly fd: number,
    private readonly callback: (count: number) => void,
  ) {}
  close(): void {
    this.closed = true;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    // Level-triggered: a counter that grew while paused is readable at once.
    if (this.counter > 0) this.fire(0);
    return this;
  }
  /** The kernel signalled `count` times since the last read; delivered unless paused or closed. */
  fire(count = 1): void {
    if (this.closed) return;
    this.counter += count;
    if (this.paused || this.counter === 0) return;
    const read = this.counter;
    this.counter = 0;
    this.callback(read);
  }
}

class FakeHost implements CgroupV1Host {
  readonly watchers: FakeWatcher[] = [];
  native: NativeAvailability = { available: true };
  private nextFd = 1000;
  constructor(
    readonly root: string,
    readonly platform: NodeJS.Platform = 'linux',
  ) {}
  watchEventfd(callback: (count: number) => void): NativeWatcher {
    const watcher = new FakeWatcher(this.nextFd++, callback);
    this.watchers.push(watcher);
    return watcher;
  }
  nativeAvailability(): NativeAvailability {
    return this.native;
  }
}

const SCOPE = '/app/workers';
let root: string;
let mount: string;
let dir: string;
let host: FakeHost;

/** A fixture /proc and v1 memory mount with one cgroup, /app/workers, limited to 64 MiB. */
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'memshed-cgroup-v1-'));
  mount = path.join(root, 'memory');
  dir = path.join(mount, SCOPE);
  fs.mkdirSync(dir, { recursive: true });
  for (const d of [mount, dir]) {
    fs.writeFileSync(path.join(d, 'cgroup.event_control'), '');
    fs.writeFileSync(path.join(d, 'memory.pressure_level'), '');
    fs.writeFileSync(path.join(d, 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 1\noom_kill 3\n');
    fs.writeFileSync(path.join(d, 'memory.usage_in_bytes'), `${10 * 2 ** 20}\n`);
    fs.writeFileSync(path.join(d, 'memory.limit_in_bytes'), `${64 * 2 ** 20}\n`);
    fs.writeFileSync(path.join(d, 'memory.stat'), `cache 0\nhierarchical_memory_limit ${64 * 2 ** 20}\n`);
  }
  const proc = path.join(root, 'proc', 'self');
  fs.mkdirSync(proc, { recursive: true });
  fs.writeFileSync(path.join(proc, 'cgroup'), `5:cpu:/\n4:memory:${SCOPE}\n0::/\n`);
  fs.writeFileSync(
    path.join(proc, 'mountinfo'),
    '30 22 0:27 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n34 30 0:31 / /memory rw,relatime - cgroup cgroup rw,memory\n',
  );
  host = new FakeHost(root);
});

afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function source(options: Record<string, unknown> = {}, withHost: CgroupV1Host = host): CgroupV1Source {
  return new CgroupV1Source(cgroupV1OptionsSchema.parse(options), withHost);
}

function registrationLines(): string[] {
  return fs
    .readFileSync(path.join(dir, 'cgroup.event_control'), 'utf8')
    .split('\n')
    .filter((line) => line !== '');
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (at: string) => (message: string) => lines.push(`${at}: ${message}`);
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

interface Running {
  memshed: Memshed;
  clock: ManualScheduler;
  events: PressureEvent[];
  errors: MemshedError[];
  logger: ReturnType<typeof recordingLogger>;
  /** The fake eventfds in registration order: low, medium, critical, oom, usage (as configured). */
  watchers: FakeWatcher[];
}

async function run(subject: CgroupV1Source): Promise<Running> {
  const clock = new ManualScheduler(1000);
  const logger = recordingLogger();
  const memshed = await createMemshed({ sources: [subject], scheduler: clock, logger });
  const events: PressureEvent[] = [];
  const errors: MemshedError[] = [];
  memshed.events$.subscribe((event) => events.push(event));
  memshed.errors$.subscribe((error) => errors.push(error));
  return { memshed, clock, events, errors, logger, watchers: host.watchers };
}

describe(CgroupV1Source, () => {
  describe('.availability', () => {
    it('names the cgroup and what is watched', () => {
      expect(source({ usageThreshold: '50%' }).availability()).toEqual({
        available: true,
        detail: `memory cgroup ${SCOPE} (${dir}): low, medium, critical (default); oom; usage >= ${32 * 2 ** 20} bytes`,
        scope: 'cgroup',
      });
    });

    it('says the source is Linux-only elsewhere', () => {
      const availability = source({}, new FakeHost(host.root, 'darwin')).availability();
      expect(availability).toMatchObject({
        available: false,
        reason: expect.stringMatching(/unavailable on this platform \(darwin\)/),
      });
    });

    it('explains a machine without the v1 memory controller and points at psi', () => {
      fs.writeFileSync(
        path.join(host.root, 'proc', 'self', 'mountinfo'),
        '40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      );
      const availability = source({ mount: path.join(root, 'nowhere') }).availability();
      expect(availability).toEqual({
        available: false,
        reason: expect.stringContaining('no cgroup v1 memory controller'),
        hint: expect.stringContaining('psi source'),
      });
    });

    it('explains a cgroup that does not exist', () => {
      expect(source({ cgroup: '/app/gone' }).availability()).toEqual({
        available: false,
        reason: expect.stringContaining('memory cgroup /app/gone not found'),
        hint: expect.stringContaining("'self' or a path below"),
      });
    });

    it('passes on why the native addon is unavailable', () => {
      host.native = {
        available: false,
        reason: 'the addon is not built',
        hint: 'npm rebuild @memshed/native',
      };
      expect(source().availability()).toEqual({
        available: false,
        reason: 'the addon is not built',
        hint: 'npm rebuild @memshed/native',
      });
    });

    it('refuses a percentage threshold without a limit', () => {
      fs.writeFileSync(path.join(dir, 'memory.stat'), `hierarchical_memory_limit ${2 ** 63 - 4096}\n`);
      fs.writeFileSync(path.join(dir, 'memory.limit_in_bytes'), `${2 ** 63 - 4096}\n`);
      expect(source({ usageThreshold: '80%' }).availability()).toMatchObject({
        available: false,
        reason: expect.stringContaining('needs a memory limit'),
      });
    });
  });

  describe('.start', () => {
    it("registers one eventfd per level, then oom and usage, on the cgroup of 'self'", async () => {
      const { memshed } = await run(source({ usageThreshold: '32M' }));
      const lines = registrationLines();
      expect(lines.map((line) => line.replace(/^(\d+) \d+/, '$1 <fd>'))).toEqual([
        '1000 <fd> low',
        '1001 <fd> medium',
        '1002 <fd> critical',
        '1003 <fd>',
        `1004 <fd> ${32 * 2 ** 20}`,
      ]);
      expect(memshed.sources[0]).toMatchObject({ id: 'cgroup-v1', state: 'running' });
      await memshed.stop();
    });

    it('writes the mode after the level when it is not default, and only the chosen levels', async () => {
      const subject = source({ levels: ['critical', 'medium', 'critical'], mode: 'hierarchy', oom: false });
      const { memshed } = await run(subject);
      expect(registrationLines().map((line) => line.split(' ')[2])).toEqual([
        'medium,hierarchy',
        'critical,hierarchy',
      ]);
      expect(subject.registrations().map((r) => [r.kind, r.argument])).toEqual([
        ['pressure', 'medium,hierarchy'],
        ['pressure', 'critical,hierarchy'],
      ]);
      await memshed.stop();
    });

    it('closes what it opened and rejects when a registration fails', async () => {
      fs.rmSync(path.join(dir, 'memory.oom_control'));
      const subject = source();
      let error: unknown;
      try {
        subject.start({
          source: 'cgroup-v1',
          scheduler: new ManualScheduler(),
          logger: recordingLogger(),
          node: () => ({ signal: () => undefined }) as never,
          error: () => undefined,
        });
      } catch (caught) {
        error = caught;
      }
      expect(MemshedError.is(error, 'unavailable')).toBe(true);
      expect((error as MemshedError).message).toContain('memory.oom_control');
      expect((error as MemshedError).context).toMatchObject({ code: 'ENOENT', cgroup: SCOPE });
      expect(host.watchers.map((w) => w.closed)).toEqual([true, true, true, true]);
      expect(subject.state).toBe('stopped');
    });

    it('signals the usage level at once when usage is already above the threshold', async () => {
      const { memshed, clock, events } = await run(source({ usageThreshold: '8M', usageLevel: 'low' }));
      clock.flush();
      expect(events.map((e) => [e.level, e.scope, e.source])).toEqual([['low', SCOPE, 'cgroup-v1']]);
      await memshed.stop();
    });
  });

  describe('notifications', () => {
    it('signals the highest level that fired in a turn, once, at the cgroup scope', async () => {
      const { memshed, clock, events, watchers } = await run(source());
      const [low, medium, critical] = watchers;
      // A critical window wakes every listener at or below critical.
      low.fire(3);
      medium.fire(2);
      critical.fire(1);
      expect(events).toEqual([]);
      clock.flush();
      expect(events).toEqual([
        { level: 'critical', scope: SCOPE, source: 'cgroup-v1', time: 1000, signalledAt: 1000 },
      ]);
      // Later than minIntervalMs (default 20): delivered in its own turn.
      clock.advanceBy(30);
      low.fire();
      clock.flush();
      expect(events.map((e) => e.level)).toEqual(['critical', 'low']);
      await memshed.stop();
    });

    it('coalesces a burst of thousands of wakeups into one signal per turn', async () => {
      const subject = source();
      const { memshed, clock, events, watchers } = await run(subject);
      for (let i = 0; i < 5000; i++) watchers[0].fire(1);
      clock.flush();
      expect(events.map((e) => e.level)).toEqual(['low']);
      expect(subject.registrations()[0].notifications).toBe(5000);
      await memshed.stop();
    });

    it('signals critical on OOM and logs the kernel counters', async () => {
      const { memshed, clock, events, errors, logger, watchers } = await run(source());
      watchers[3].fire();
      clock.flush();
      expect(events.map((e) => e.level)).toEqual(['critical']);
      expect(errors).toEqual([]);
      expect(logger.lines).toContainEqual(
        expect.stringMatching(
          /^warn: cgroup \/app\/workers hit its memory limit: OOM \(under_oom 1, oom_kill 3/,
        ),
      );
      await memshed.stop();
    });

    it('signals the usage level when usage rose past the threshold, nothing when it fell below', async () => {
      const { memshed, clock, events, watchers } = await run(
        source({ usageThreshold: '80%', oom: false, levels: ['critical'] }),
      );
      const usage = watchers[1];
      fs.writeFileSync(path.join(dir, 'memory.usage_in_bytes'), `${60 * 2 ** 20}\n`);
      usage.fire();
      clock.flush();
      fs.writeFileSync(path.join(dir, 'memory.usage_in_bytes'), `${20 * 2 ** 20}\n`);
      usage.fire();
      clock.flush();
      expect(events.map((e) => e.level)).toEqual(['medium']);
      await memshed.stop();
    });

    it('ends cleanly when the cgroup is removed: no pressure event, fds closed, one error', async () => {
      const subject = source();
      const { memshed, clock, events, errors, watchers } = await run(subject);
      fs.rmSync(path.join(dir, 'cgroup.event_control'));
      for (const watcher of watchers) watcher.fire();
      clock.flush();
      expect(events).toEqual([]);
      expect(subject.state).toBe('ended');
      expect(watchers.every((w) => w.closed)).toBe(true);
      expect(subject.registrations()).toEqual([]);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatchObject({
        kind: 'source-failed',
        context: { source: 'cgroup-v1', cgroup: SCOPE, reason: 'cgroup-removed' },
      });
      expect(errors[0].message).toContain(`Cgroup ${SCOPE} was removed`);
      expect(clock.pending).toBe(0);
      await memshed.stop();
      expect(errors).toHaveLength(1);
    });
  });

  describe('storms', () => {
    it('delivers the first wakeup at once, then at most one signal per minIntervalMs, pausing the eventfds', async () => {
      const subject = source({ minIntervalMs: 10 });
      const { memshed, clock, events, watchers } = await run(subject);
      const [low, medium, critical] = watchers;
      low.fire();
      clock.flush();
      expect(events.map((e) => [e.level, e.time])).toEqual([['low', 1000]]);
      // 1 ms later: inside the interval. The wakeup is held and the eventfds stop waking us.
      clock.advanceBy(1);
      low.fire();
      clock.flush();
      expect(events).toHaveLength(1);
      expect(watchers.slice(0, 3).map((w) => w.paused)).toEqual([true, true, true]);
      // The kernel keeps counting meanwhile: thousands of notifications, no wakeups.
      for (let i = 0; i < 1000; i++) medium.fire();
      critical.fire();
      clock.advanceBy(8);
      expect(events).toHaveLength(1);
      clock.advanceBy(1);
      // At 1010: one signal for everything held, at the highest level; the counters were read once.
      expect(events.map((e) => [e.level, e.time])).toEqual([
        ['low', 1000],
        ['critical', 1010],
      ]);
      expect(subject.registrations().map((r) => r.notifications)).toEqual([2, 1000, 1, 0]);
      expect(watchers.slice(0, 3).map((w) => w.paused)).toEqual([false, false, false]);
      // Quiet again for longer than the interval: the next wakeup is immediate.
      clock.advanceBy(50);
      low.fire();
      clock.flush();
      expect(events.map((e) => e.time)).toEqual([1000, 1010, 1060]);
      await memshed.stop();
    });

    it('delivers a wakeup that started a held interval when the interval ends, with nothing after it', async () => {
      const { memshed, clock, events, logger, watchers } = await run(source({ minIntervalMs: 20 }));
      watchers[0].fire();
      clock.flush();
      clock.advanceBy(1);
      // The OOM eventfd is read (its counter is 0 again), then the source holds: no later wakeup.
      watchers[3].fire();
      clock.advanceBy(18);
      expect(events.map((e) => e.level)).toEqual(['low']);
      clock.advanceBy(1);
      expect(events.map((e) => [e.level, e.time])).toEqual([
        ['low', 1000],
        ['critical', 1020],
      ]);
      expect(logger.lines).toContainEqual(expect.stringContaining('hit its memory limit: OOM'));
      await memshed.stop();
    });

    it('delivers every turn with minIntervalMs 0', async () => {
      const { memshed, clock, events, watchers } = await run(source({ minIntervalMs: 0 }));
      for (let i = 0; i < 3; i++) {
        watchers[0].fire();
        clock.flush();
      }
      expect(events).toHaveLength(3);
      expect(watchers[0].paused).toBe(false);
      await memshed.stop();
    });
  });

  describe('.stop', () => {
    it('closes every eventfd, cancels a pending flush and ignores later wakeups', async () => {
      const subject = source({ usageThreshold: '32M' });
      const { memshed, clock, events, watchers } = await run(subject);
      watchers[2].fire();
      await memshed.stop();
      expect(watchers.map((w) => w.closed)).toEqual([true, true, true, true, true]);
      clock.flush();
      expect(events).toEqual([]);
      expect(subject.state).toBe('stopped');
      subject.stop();
      expect(() => subject.start({} as never)).toThrow(/already started/);
    });
  });
});

describe('the cgroup-v1 module', () => {
  it('is bound by the module as the cgroup-v1 source factory', () => {
    const { sources } = loadPlugins([cgroupV1Module]);
    expect(sources.map((factory) => factory.id)).toEqual(['cgroup-v1']);
    expect(sources[0].description).toMatch(/^cgroup v1 memory\.pressure_level: /);
    expect(sources[0].create(cgroupV1OptionsSchema.parse({}))).toBeInstanceOf(CgroupV1Source);
  });

  it('rejects bad options with their key path before anything starts', async () => {
    await expect(
      createMemshed({
        modules: [cgroupV1Module],
        sources: [{ use: 'cgroup-v1', with: { levels: ['urgent'] } }],
      }),
    ).rejects.toMatchObject({
      kind: 'invalid-config',
      message: expect.stringMatching(/^sources\[0\]\.with\.levels\[0\]/),
    });
    await expect(
      createMemshed({
        modules: [cgroupV1Module],
        sources: [{ use: 'cgroup-v1', with: { cgroups: 'self' } }],
      }),
    ).rejects.toMatchObject({ kind: 'invalid-config' });
  });
});
