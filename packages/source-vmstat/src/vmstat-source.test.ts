import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { vmpressurePercent } from '@memshed/core';
import { startWithSource, validOptions } from '@memshed/core/testing';
import { VmstatSource } from './vmstat-source';
import { vmstatSourceOptionsSchema } from './vmstat-source-options';

function source(input: Record<string, unknown>): VmstatSource {
  return new VmstatSource(validOptions(vmstatSourceOptionsSchema, input));
}

const vmstat = (scanned: number, stolen: number, oomKill = 0) =>
  `pgscan_anon 0\npgscan_file ${scanned}\npgsteal_anon 0\npgsteal_file ${stolen}\noom_kill ${oomKill}\n`;

describe(VmstatSource, () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'memshed-vmstat-'));
    mkdirSync(path.join(root, 'proc/self'), { recursive: true });
    writeFileSync(path.join(root, 'proc/vmstat'), vmstat(0, 0));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const start = (input: Record<string, unknown>) => startWithSource(source({ root, ...input }));

  it("feeds counter deltas to the engine's window, with the kernel's arithmetic", async () => {
    const { scheduler, memshed, events } = await start({ interval: 250 });
    const file = path.join(root, 'proc/vmstat');
    writeFileSync(file, vmstat(300, 200));
    scheduler.advanceBy(250); // 300 scanned: below the 512-page window
    expect(events).toEqual([]);
    writeFileSync(file, vmstat(812, 250));
    scheduler.advanceBy(250); // +512 scanned, +50: window of 812 / 250
    writeFileSync(file, vmstat(1324, 250));
    scheduler.advanceBy(250); // +512, +0
    expect(events.map((e) => [e.time, e.level, e.scanned, e.reclaimed, e.pressure, e.source])).toEqual([
      [500, 'medium', 812, 250, vmpressurePercent(812, 250), 'vmstat'],
      [750, 'critical', 512, 0, 100, 'vmstat'],
    ]);
    await memshed.stop();
  });

  it('treats a counter that went down as a reset, not as pressure', async () => {
    const { scheduler, memshed, events } = await start({ interval: 100 });
    const file = path.join(root, 'proc/vmstat');
    writeFileSync(file, vmstat(5000, 0));
    scheduler.advanceBy(100);
    writeFileSync(file, vmstat(10, 10)); // reset
    scheduler.advanceBy(100);
    writeFileSync(file, vmstat(600, 600));
    scheduler.advanceBy(100);
    expect(events.map((e) => [e.level, e.scanned])).toEqual([
      ['critical', 5000],
      ['low', 590],
    ]);
    await memshed.stop();
  });

  it('signals critical when the OOM-kill counter goes up', async () => {
    const { scheduler, memshed, events } = await start({ interval: 100 });
    writeFileSync(path.join(root, 'proc/vmstat'), vmstat(0, 0, 1));
    scheduler.advanceBy(100);
    expect(events.map((e) => [e.level, e.scanned])).toEqual([['critical', undefined]]);
    await memshed.stop();
  });

  it('reads a cgroup v2 group: memory.stat for reclaim, memory.events for OOM kills', async () => {
    const group = path.join(root, 'sys/fs/cgroup/app');
    mkdirSync(group, { recursive: true });
    writeFileSync(
      path.join(root, 'proc/self/mountinfo'),
      '35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
    );
    writeFileSync(path.join(root, 'proc/self/cgroup'), '0::/app\n');
    writeFileSync(path.join(group, 'memory.stat'), 'anon 1\npgscan 0\npgsteal 0\n');
    writeFileSync(path.join(group, 'memory.events'), 'oom_kill 0\n');
    const { scheduler, memshed, events } = await start({ cgroup: 'self', interval: 100 });
    writeFileSync(path.join(group, 'memory.stat'), 'anon 1\npgscan 1024\npgsteal 1000\n');
    scheduler.advanceBy(100);
    writeFileSync(path.join(group, 'memory.events'), 'oom_kill 1\n');
    scheduler.advanceBy(100);
    expect(events.map((e) => [e.scope, e.level])).toEqual([
      ['/app', 'low'],
      ['/app', 'critical'],
    ]);
    await memshed.stop();
  });

  it('stops reading after stop()', async () => {
    const { scheduler, memshed } = await start({ interval: 100 });
    await memshed.stop();
    expect(scheduler.pending).toBe(0);
  });

  describe('.availability', () => {
    it('explains missing counters and a missing v2 hierarchy', () => {
      writeFileSync(path.join(root, 'proc/vmstat'), 'nr_free_pages 1\n');
      expect(source({ root }).availability()).toMatchObject({
        available: false,
        reason: expect.stringContaining('no pgscan_'),
      });
      expect(source({ root, cgroup: 'self' }).availability()).toMatchObject({
        available: false,
        reason: expect.stringContaining('no cgroup v2 hierarchy'),
      });
    });

    it('names a missing group, with the fix', () => {
      writeFileSync(
        path.join(root, 'proc/self/mountinfo'),
        '35 24 0:30 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      );
      expect(source({ root, cgroup: '/nowhere' }).availability()).toEqual({
        available: false,
        reason: `cgroup /nowhere does not exist (no ${path.join(root, 'sys/fs/cgroup/nowhere')})`,
        hint: "create it, or fix the `cgroup` option ('self', or a path below the cgroup v2 mount)",
      });
    });

    it('names the file and interval when available', () => {
      expect(source({ root, interval: 500 }).availability()).toEqual({
        available: true,
        detail: `host-wide: ${path.join(root, 'proc/vmstat')} every 500 ms; reclaim of the whole machine, not of this container (cgroup v2: set \`cgroup: self\`)`,
        scope: 'host',
      });
    });
  });
});
