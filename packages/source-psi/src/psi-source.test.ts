import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createMemshed, type PressureEvent } from '@memshed/core';
import { startWithSource, validOptions } from '@memshed/core/testing';
import { PsiSource } from './psi-source';
import { psiSourceOptionsSchema, type PsiSourceOptions } from './psi-source-options';
import { resolvePsiTarget } from './psi-target';

const options = (input: Record<string, unknown>): PsiSourceOptions =>
  validOptions(psiSourceOptionsSchema, input);

function psiText(someAvg10: number, fullAvg10: number, total = 0): string {
  return `some avg10=${someAvg10.toFixed(2)} avg60=0.00 avg300=0.00 total=${total}\nfull avg10=${fullAvg10.toFixed(2)} avg60=0.00 avg300=0.00 total=${total}\n`;
}

/** A fixture root: /proc/pressure/memory, /proc/self/{mountinfo,cgroup,status}, /proc/meminfo, a v2 group. */
function fixtureRoot(): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'memshed-psi-'));
  mkdirSync(path.join(root, 'proc/pressure'), { recursive: true });
  mkdirSync(path.join(root, 'proc/self'), { recursive: true });
  mkdirSync(path.join(root, 'sys/fs/cgroup/system.slice/app.service'), { recursive: true });
  writeFileSync(path.join(root, 'proc/pressure/memory'), psiText(0, 0));
  writeFileSync(path.join(root, 'sys/fs/cgroup/system.slice/app.service/memory.pressure'), psiText(0, 0));
  writeFileSync(
    path.join(root, 'proc/self/mountinfo'),
    '35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n',
  );
  writeFileSync(path.join(root, 'proc/self/cgroup'), '0::/system.slice/app.service\n');
  writeFileSync(path.join(root, 'proc/self/status'), 'Name:\tnode\nCapEff:\t0000000000000000\n');
  writeFileSync(path.join(root, 'proc/meminfo'), 'MemTotal:       1000 kB\nMemAvailable:    900 kB\n');
  return root;
}

describe(PsiSource, () => {
  let root: string;
  beforeEach(() => (root = fixtureRoot()));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  describe('resolvePsiTarget', () => {
    const base = { systemd: true, systemdLevel: 'medium' as const, root: '/' };

    it('watches the whole machine by default, and a v2 group for `cgroup`', () => {
      expect(resolvePsiTarget({ ...base, root }, {})).toEqual({
        kind: 'psi-file',
        file: path.join(root, 'proc/pressure/memory'),
        scope: '/',
      });
      expect(resolvePsiTarget({ ...base, root, cgroup: 'self' }, {})).toEqual({
        kind: 'psi-file',
        file: path.join(root, 'sys/fs/cgroup/system.slice/app.service/memory.pressure'),
        scope: '/system.slice/app.service',
      });
    });

    it("honours systemd's /dev/null as disabled", () => {
      const target = resolvePsiTarget(base, { MEMORY_PRESSURE_WATCH: '/dev/null' });
      expect(target).toMatchObject({
        kind: 'disabled',
        reason: expect.stringContaining('MEMORY_PRESSURE_WATCH=/dev/null'),
      });
    });

    it("uses systemd's PSI file with its base64 trigger", () => {
      const file = path.join(root, 'sys/fs/cgroup/system.slice/app.service/memory.pressure');
      const write = Buffer.from('some 200000 2000000\0').toString('base64');
      expect(resolvePsiTarget(base, { MEMORY_PRESSURE_WATCH: file, MEMORY_PRESSURE_WRITE: write })).toEqual({
        kind: 'psi-file',
        file,
        scope: '/',
        systemdTrigger: { text: 'some 200000 2000000', level: 'medium' },
      });
    });

    it('ignores systemd when told to', () => {
      const target = resolvePsiTarget(
        { ...base, systemd: false, root },
        { MEMORY_PRESSURE_WATCH: '/dev/null' },
      );
      expect(target.kind).toBe('psi-file');
    });
  });

  describe('.availability', () => {
    it('refuses an unprivileged 1 s window up front, with the fix', () => {
      const source = new PsiSource(options({ root, mode: 'poll', triggers: { low: 'some 70ms 1s' } }), {});
      expect(source.availability()).toEqual({
        available: false,
        reason:
          "PSI trigger 'some 70000 1000000': without CAP_SYS_RESOURCE the kernel accepts only windows that are multiples of 2s",
        hint: "write 'some 140ms 2s' (the same stall share over 2s), or grant CAP_SYS_RESOURCE",
      });
    });

    it('explains a kernel without PSI', () => {
      rmSync(path.join(root, 'proc/pressure/memory'));
      const availability = new PsiSource(options({ root, mode: 'poll' }), {}).availability();
      expect(availability).toMatchObject({ available: false, reason: expect.stringContaining('(ENOENT)') });
      expect(availability.available === false && availability.hint).toContain('CONFIG_PSI');
    });

    it('names a missing group as such, not as a kernel without PSI', () => {
      const availability = new PsiSource(
        options({ root, mode: 'poll', cgroup: '/nowhere' }),
        {},
      ).availability();
      expect(availability).toMatchObject({ available: false, reason: expect.stringContaining('(ENOENT)') });
      expect(availability.available === false && availability.hint).toMatch(
        /cgroup .*nowhere does not exist: create it, or fix the `cgroup` option/,
      );
    });

    it('says when it polls', () => {
      expect(new PsiSource(options({ root, mode: 'poll', pollInterval: 500 }), {}).availability()).toEqual({
        available: true,
        detail: `host-wide: ${path.join(root, 'proc/pressure/memory')}, polling avg10 every 500 ms; stalls of every process on the machine, not of this container (cgroup v2: set \`cgroup: self\`)`,
        scope: 'host',
      });
    });
  });

  describe('polling avg10', () => {
    it('signals the highest level whose stall share avg10 reaches, once per interval', async () => {
      const source = new PsiSource(options({ root, mode: 'poll', pollInterval: 1000 }), {});
      const { scheduler, memshed, events } = await startWithSource(source);
      expect(source.mode).toBe('poll');
      const file = path.join(root, 'proc/pressure/memory');
      scheduler.advanceBy(1000); // idle: nothing
      writeFileSync(file, psiText(4, 0)); // some 4% >= 3.5% (70ms/2s): low
      scheduler.advanceBy(1000);
      writeFileSync(file, psiText(6, 1)); // some 6% >= 5%: medium; full 1% < 5%
      scheduler.advanceBy(1000);
      writeFileSync(file, psiText(30, 8)); // full 8% >= 5%: critical
      scheduler.advanceBy(1000);
      expect(events.map((e) => [e.time, e.level, e.source, e.scope])).toEqual([
        [2000, 'low', 'psi', '/'],
        [3000, 'medium', 'psi', '/'],
        [4000, 'critical', 'psi', '/'],
      ]);
      await memshed.stop();
      writeFileSync(file, psiText(30, 8));
      scheduler.advanceBy(5000);
      expect(events).toHaveLength(3);
    });

    it("applies GLib's confirmation: nothing while more than the fraction is available", async () => {
      const source = new PsiSource(options({ root, mode: 'poll', ignoreAboveAvailable: 0.5 }), {});
      const { scheduler, memshed, events } = await startWithSource(source);
      writeFileSync(path.join(root, 'proc/pressure/memory'), psiText(30, 8));
      scheduler.advanceBy(1000); // 90% available: ignored
      writeFileSync(path.join(root, 'proc/meminfo'), 'MemTotal:       1000 kB\nMemAvailable:    100 kB\n');
      scheduler.advanceBy(1000);
      expect(events.map((e) => e.level)).toEqual(['critical']);
      await memshed.stop();
    });
  });

  describe("systemd's FIFO and socket", () => {
    it('signals the configured level for every read from the FIFO', async () => {
      const fifo = path.join(root, 'pressure.fifo');
      execFileSync('mkfifo', [fifo]);
      const source = new PsiSource(options({ systemdLevel: 'critical' }), { MEMORY_PRESSURE_WATCH: fifo });
      expect(source.availability()).toEqual({
        available: true,
        detail: `systemd fifo ${fifo}`,
        scope: 'cgroup',
      });
      const memshed = await createMemshed({ sources: [source] });
      const event = new Promise<PressureEvent>((resolve) => memshed.events$.subscribe(resolve));
      writeFileSync(fifo, 'x'); // opens the write end, writes, closes
      expect(await event).toMatchObject({ level: 'critical', source: 'psi', scope: '/' });
      await memshed.stop();
    });

    it('connects to the socket, writes the trigger, and signals for data', async () => {
      const socketPath = path.join(root, 'pressure.sock');
      const received: string[] = [];
      const server: Server = createServer((connection) => {
        connection.on('data', (data) => {
          received.push(data.toString());
          connection.write('pressure!');
        });
      });
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      const write = Buffer.from('some 100000 2000000').toString('base64');
      const source = new PsiSource(options({}), {
        MEMORY_PRESSURE_WATCH: socketPath,
        MEMORY_PRESSURE_WRITE: write,
      });
      const memshed = await createMemshed({ sources: [source] });
      const event = await new Promise<PressureEvent>((resolve) => memshed.events$.subscribe(resolve));
      expect(event).toMatchObject({ level: 'medium', source: 'psi' });
      expect(received.join('')).toBe('some 100000 2000000');
      await memshed.stop();
      await new Promise((resolve) => server.close(resolve));
    });
  });
});
