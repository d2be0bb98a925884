/**
 * The system source against real cgroup v1 memory cgroups: usage thresholds armed through eventfds
 * and fired by the kernel, and the early warning it gives a Buffer-growing service (whose first
 * vmpressure events come only shortly before the OOM kill: docs/sources/system.md) measured
 * against the kernel's first vmpressure event on the same cgroup.
 */
import * as path from 'node:path';
import { createMemshed, type HeadroomReading, type PressureEvent } from '@memshed/core';
import { nativeAvailability, watchEventfd, type NativeWatcher } from '@memshed/native';
import { CgroupV1Memory, registerCgroupEvent } from '@memshed/cgroupfs';
import { SystemSource, systemSourceOptionsSchema } from '@memshed/source-system';
import { startLoopbackLoad } from '../e2e/support/system-loopback-load';
import {
  MiB,
  exited,
  removeAllTestCgroups,
  spawnWorkload,
  testCgroupsUnavailableReason,
  withTestCgroup,
  type TestCgroup,
} from './support/cgroup';
import { readJsonLines } from './support/json-lines';

const REGISTER = path.join(__dirname, '../e2e/support/system-ts-register.js');
const SERVICE = path.join(__dirname, '../e2e/support/system-buffer-service.ts');
const RATE = 400;
const ENTRY_BYTES = 64 * 1024;
const RUN_MS = 20_000;

const native = nativeAvailability();
const unavailable = testCgroupsUnavailableReason() ?? (native.available ? undefined : native.reason);
if (unavailable) console.warn(`system kernel tests skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

afterAll(() => removeAllTestCgroups());

/** Listens to the cgroup's memory.pressure_level at `level` and records when the kernel first signals. */
function listenVmpressure(cgroup: TestCgroup, level: 'low' | 'medium' | 'critical') {
  const record: { level: string; first?: number; count: number; watcher?: NativeWatcher } = {
    level,
    count: 0,
  };
  record.watcher = registerCgroupEvent(
    cgroup.path,
    { kind: 'pressure', level, mode: 'default' },
    watchEventfd,
    (count) => {
      record.first ??= Date.now();
      record.count += count;
    },
  );
  return record;
}

describeKernel('system source on real cgroup v1 memory cgroups', () => {
  it('is woken by the kernel through usage-threshold eventfds, with no reads while usage is below them', async () => {
    await withTestCgroup({ name: 'system-thresholds', limitBytes: 256 * MiB }, async (cgroup) => {
      // Thresholds only: the time to limit would signal this growth first (the next test).
      const source = new SystemSource(
        systemSourceOptionsSchema.parse({
          host: false,
          container: { cgroup: cgroup.relativePath, timeToLimit: false },
        }),
      );
      const memshed = await createMemshed({ sources: [source] });
      const events: (PressureEvent & { usage: number })[] = [];
      memshed.events$.subscribe((event) => events.push({ ...event, usage: cgroup.usage() }));
      try {
        expect(memshed.sources[0].state).toBe('running');
        expect(source.containerMode).toBe('eventfd');
        const reads = jest.spyOn(CgroupV1Memory.prototype, 'sample');
        await new Promise((resolve) => setTimeout(resolve, 1000));
        expect(reads).not.toHaveBeenCalled(); // nothing polls below the thresholds
        reads.mockRestore();

        // 215 MiB of anonymous memory, 1 MiB every 20 ms, on top of the workload's own ~9 MiB: past
        // 75% (192 MiB) and 85% (217.6 MiB) of 256M, short of the limit. The two crossings are
        // ~0.5 s apart, so a late turn of this process cannot see both at once (one event, at the
        // higher level, as the engine coalesces a turn's signals).
        const workload = await spawnWorkload(cgroup, {
          read: false,
          holdMiB: 215,
          stepMiB: 1,
          everyMs: 20,
          durationMs: 8000,
        });
        const deadline = Date.now() + 5000;
        while (!events.some((e) => e.level === 'critical') && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        workload.kill('SIGKILL');
        await exited(workload);
        console.log(
          `usage thresholds at ${[0.75, 0.85].map((f) => `${(256 * f).toFixed(1)} MiB`).join(', ')}: ` +
            events.map((e) => `${e.level} at ${(e.usage / MiB).toFixed(1)} MiB`).join(', '),
        );
        expect(events.map((e) => e.level).slice(0, 2)).toEqual(['medium', 'critical']);
        expect(events.every((e) => e.scope === `/system/container` && e.source === 'system')).toBe(true);
        expect(events[0].usage).toBeGreaterThanOrEqual(0.75 * 256 * MiB);
      } finally {
        await memshed.stop();
      }
    });
  }, 30_000);

  it('signals the time to limit of fast growth before usage reaches the 75% threshold', async () => {
    await withTestCgroup({ name: 'system-time-to-limit', limitBytes: 256 * MiB }, async (cgroup) => {
      const source = new SystemSource(
        systemSourceOptionsSchema.parse({ host: false, container: { cgroup: cgroup.relativePath } }),
      );
      const memshed = await createMemshed({ sources: [source] });
      const events: (PressureEvent & { usage: number })[] = [];
      // The headroom reading (memshed.sources[].headroom, the metrics) at the first event, beside
      // what the kernel says the group uses at that moment.
      let atFirst: { reading: HeadroomReading | undefined; usage: number } | undefined;
      memshed.events$.subscribe((event) => {
        const usage = cgroup.usage();
        atFirst ??= { reading: memshed.sources[0].headroom?.find((r) => r.target === 'container'), usage };
        events.push({ ...event, usage });
      });
      try {
        expect(source.containerMode).toBe('eventfd');
        // 1 MiB every 20 ms (up to ~50 MiB/s, less on a loaded machine) up to 215 MiB: the floor
        // (50%) wakes the source, which then reads every 100 ms and sees the rate; at this rate the
        // limit is less than 3 s away from ~106 MiB, and the 75% threshold is ~1 s beyond the floor.
        const workload = await spawnWorkload(cgroup, {
          read: false,
          holdMiB: 215,
          stepMiB: 1,
          everyMs: 20,
          durationMs: 10_000,
        });
        const deadline = Date.now() + 8000;
        while (!events.some((e) => e.reason?.startsWith('working-set')) && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        workload.kill('SIGKILL');
        await exited(workload);
        console.log(
          'time to limit in 256M: ' +
            events
              .slice(0, 6)
              .map((e) => `${e.level} at ${(e.usage / MiB).toFixed(1)} MiB (${e.reason})`)
              .join(', '),
        );
        expect(events.length).toBeGreaterThan(0);
        expect(events[0].reason).toMatch(/^limit in \d+\.\d s at [\d.]+ MiB\/s$/);
        expect(events[0].usage).toBeLessThan(0.75 * 256 * MiB);
        // The reading behind that event: the group's limit, its usage as last read (within the
        // growth of one 100 ms interval of what the kernel says now), a rate and a finite time.
        const reading = atFirst?.reading;
        console.log(
          `headroom at the first event: ${JSON.stringify(reading)}; kernel usage ${(atFirst!.usage / MiB).toFixed(1)} MiB`,
        );
        expect(reading).toMatchObject({ limitBytes: 256 * MiB });
        expect(Math.abs(reading!.usedBytes - atFirst!.usage)).toBeLessThan(16 * MiB);
        expect(reading!.growthBytesPerSecond).toBeGreaterThan(10 * MiB);
        expect(reading!.growthBytesPerSecond).toBeLessThan(100 * MiB);
        expect(reading!.timeToLimitMs).toBeLessThan(3000);
      } finally {
        await memshed.stop();
      }
    });
  }, 30_000);

  it('warns a Buffer-growing service in a 256M cgroup at medium seconds before the kernel first reports vmpressure', async () => {
    await withTestCgroup(
      { name: 'system-buffers', limitBytes: 256 * MiB, timeoutMs: 60_000 },
      async (cgroup) => {
        const kernel = (['low', 'medium', 'critical'] as const).map((level) =>
          listenVmpressure(cgroup, level),
        );
        try {
          const child = cgroup.spawn(process.execPath, ['-r', REGISTER, SERVICE], {
            stdio: ['ignore', 'pipe', 'pipe'],
          });
          let stderr = '';
          child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
          const events: { event: string; at: number; entries: number }[] = [];
          const errors: string[] = [];
          const listening = await new Promise<{
            listening: number;
            mode: string;
            detail: string;
            at: number;
          }>((resolve, reject) => {
            const timer = setTimeout(
              () => reject(new Error(`service did not listen in 15 s: ${stderr}`)),
              15_000,
            );
            readJsonLines(child, (line) => {
              if ('listening' in line) {
                clearTimeout(timer);
                resolve(line as never);
              } else if ('event' in line) events.push(line as never);
              else if ('error' in line) errors.push(String(line.error));
            });
            child.once('exit', (code, signal) =>
              reject(new Error(`service exited (${code}, ${signal}): ${stderr}`)),
            );
          });
          const load = startLoopbackLoad({
            port: listening.listening,
            path: '/put',
            rate: RATE,
            maxRequests: (RATE * RUN_MS) / 1000,
          });
          let timer: NodeJS.Timeout | undefined;
          const outcome = await Promise.race([
            exited(child),
            new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), RUN_MS))),
          ]);
          clearTimeout(timer);
          const summary = load.stop();
          const oomKills = cgroup.oomControl().oomKill;
          if (!outcome) {
            child.kill('SIGKILL');
            await exited(child);
          }

          const firstMedium = events.find((e) => e.event === 'medium' || e.event === 'critical');
          const firstKernel = Math.min(...kernel.map((k) => k.first ?? Infinity));
          const since = (at: number | undefined) =>
            at === undefined || !Number.isFinite(at) ? 'never' : `${at - listening.at} ms`;
          console.log(
            `Buffer service in 256M (${listening.mode}; ${listening.detail}): ` +
              `system medium at ${since(firstMedium?.at)} (${firstMedium?.entries} entries, ` +
              `${(((firstMedium?.entries ?? 0) * ENTRY_BYTES) / MiB).toFixed(0)} MiB cached); ` +
              kernel
                .map((k) => `kernel ${k.level} first at ${since(k.first)} (${k.count} events)`)
                .join(', ') +
              `; ended ${outcome ? `by ${outcome.signal ?? outcome.code}` : 'alive'} after ${summary.completed} requests, ` +
              `OOM kills ${oomKills}; lead time ${firstMedium && Number.isFinite(firstKernel) ? firstKernel - firstMedium.at : 'n/a'} ms`,
          );
          expect(errors).toEqual([]);
          expect(listening.mode).toBe('eventfd');
          expect(firstMedium).toBeDefined();
          expect(Number.isFinite(firstKernel)).toBe(true); // the kernel did report, later
          const lead = firstKernel - firstMedium!.at;
          expect(lead).toBeGreaterThan(1000);
        } finally {
          for (const k of kernel) k.watcher?.close();
        }
      },
    );
  }, 60_000);
});
