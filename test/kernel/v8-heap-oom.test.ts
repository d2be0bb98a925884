/**
 * The v8 source against a real heap-OOM (docs/kernel.md, "What kills a Node service in a memory
 * cgroup"): a service caching 64 KiB JS strings per request, under 400 requests/s of loopback load
 * (25 MB/s), in a 512M memory cgroup where Node sizes the heap to ~259 MB. Without memshed it dies
 * of "JavaScript heap out of memory" after ~8 s, and the kernel sends nothing. With the v8 source
 * and a policy that purges the cache and collects garbage on medium, it survives the whole run.
 */
import * as path from 'node:path';
import {
  MiB,
  exited,
  removeAllTestCgroups,
  testCgroupsUnavailableReason,
  withTestCgroup,
} from './support/cgroup';
import { startLoopbackLoad, type LoopbackLoadSummary } from '../e2e/support/system-loopback-load';
import { readJsonLines } from './support/json-lines';

const REGISTER = path.join(__dirname, '../e2e/support/system-ts-register.js');
const SERVICE = path.join(__dirname, '../e2e/support/v8-cache-service.ts');
const RATE = 400;
const ENTRY_BYTES = 64 * 1024;
const RUN_MS = 15_000;

const unavailable = testCgroupsUnavailableReason();
if (unavailable) console.warn(`v8 heap-OOM kernel test skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

afterAll(() => removeAllTestCgroups());

interface ServiceRun {
  /** The first line: port, heap limit. */
  readonly listening: { listening: number; heapLimit: number; constrainedMemory?: number };
  /** The purges the policy made, in order. */
  readonly purges: { purge: number; level: string; pressure?: number; entries: number; ms: number }[];
  /** How the process ended, and when (ms after it started serving); undefined when it outlived the run. */
  readonly death: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
  readonly stderr: string;
  readonly load: LoopbackLoadSummary;
  readonly oomKills: number;
}

/** Runs the service in a fresh 512M cgroup under loopback load for RUN_MS, or until it dies. */
function runService(memshed: boolean): Promise<ServiceRun> {
  return withTestCgroup(
    { name: memshed ? 'v8-memshed' : 'v8-bare', limitBytes: 512 * MiB },
    async (cgroup) => {
      const child = cgroup.spawn(
        process.execPath,
        ['-r', REGISTER, SERVICE, ...(memshed ? ['--memshed'] : [])],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
      const purges: ServiceRun['purges'] = [];
      const listening = await new Promise<ServiceRun['listening']>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`service did not listen in 15 s: ${stderr}`)),
          15_000,
        );
        readJsonLines(child, (line) => {
          if ('listening' in line) {
            clearTimeout(timer);
            resolve(line as unknown as ServiceRun['listening']);
          } else if ('purge' in line) purges.push(line as unknown as ServiceRun['purges'][number]);
          else if ('error' in line) stderr += `memshed error: ${String(line.error)}\n`;
        });
        child.once('exit', (code, signal) =>
          reject(new Error(`service exited (${code}, ${signal}): ${stderr}`)),
        );
      });
      const started = performance.now();
      const load = startLoopbackLoad({
        port: listening.listening,
        path: '/put',
        rate: RATE,
        maxRequests: (RATE * RUN_MS) / 1000,
      });
      let death: ServiceRun['death'];
      const ended = exited(child).then(({ code, signal }) => {
        death = { code, signal, at: Math.round(performance.now() - started) };
      });
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([ended, new Promise((resolve) => (timer = setTimeout(resolve, RUN_MS)))]);
      clearTimeout(timer);
      const summary = load.stop();
      const oomKills = cgroup.oomControl().oomKill;
      const outcome = death;
      if (!outcome) {
        child.kill('SIGTERM');
        await exited(child);
      }
      return { listening, purges, death: outcome, stderr, load: summary, oomKills };
    },
  );
}

describeKernel('v8 source against a real heap OOM (512M cgroup, 25 MB/s of JS strings)', () => {
  let bare: ServiceRun;

  it('without memshed, the service dies of "JavaScript heap out of memory", with no kernel OOM kill', async () => {
    bare = await runService(false);
    console.log(
      `without memshed: heap limit ${(bare.listening.heapLimit / MiB).toFixed(0)} MiB, ` +
        `died at ${bare.death?.at} ms (code ${bare.death?.code}, signal ${bare.death?.signal}) ` +
        `after ${bare.load.completed} requests (${((bare.load.completed * ENTRY_BYTES) / MiB).toFixed(0)} MiB cached)`,
    );
    expect(bare.listening.heapLimit).toBeLessThan(300 * 1e6); // sized from the cgroup, not the host
    expect(bare.death).toBeDefined();
    expect(bare.death!.signal === 'SIGABRT' || bare.death!.code === 134).toBe(true);
    expect(bare.stderr).toContain('JavaScript heap out of memory');
    expect(bare.oomKills).toBe(0);
  }, 60_000);

  it('with the v8 source and a purge-on-medium policy, the same service survives the whole run', async () => {
    const run = await runService(true);
    const first = run.purges[0];
    console.log(
      `with memshed: alive after ${RUN_MS} ms, ${run.load.completed} requests ` +
        `(${((run.load.completed * ENTRY_BYTES) / MiB).toFixed(0)} MiB cached in total), ` +
        `${run.purges.length} purges; first at ${first?.purge} ms (${first?.level}, ` +
        `${first?.pressure === undefined ? 'headroom' : `GC efficiency, pressure ${first.pressure}%`}, ` +
        `${first?.entries} entries, ${first?.ms} ms); ` +
        `lead time before the unprotected crash: ${bare?.death ? bare.death.at - (first?.purge ?? 0) : 'n/a'} ms`,
    );
    expect(run.death).toBeUndefined();
    expect(run.stderr).not.toContain('heap out of memory');
    expect(run.purges.length).toBeGreaterThanOrEqual(1);
    expect(run.purges.every((purge) => purge.level === 'medium' || purge.level === 'critical')).toBe(true);
    // It absorbed more than the heap limit in total: without the purges it would have died.
    expect(run.load.completed * ENTRY_BYTES).toBeGreaterThan(run.listening.heapLimit);
    if (bare?.death) {
      expect(run.load.completed).toBeGreaterThan(bare.load.completed);
      // The first warning came seconds of this load before the unprotected service died. Counted
      // in cached entries, not in clock time: the two runs are separate processes whose clocks a
      // loaded machine stretches differently (bare.load.completed undercounts its cache by at most
      // the requests in flight).
      expect(bare.load.completed - first.entries).toBeGreaterThanOrEqual(2 * RATE); // two seconds of requests
    }
  }, 60_000);
});
