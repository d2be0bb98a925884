/**
 * End-to-end survival (issue 10): a real Node HTTP service whose cache grows by 64 KiB per request
 * (JS strings on the V8 heap, or Buffers off it) in a 256M child memory cgroup, driven by a bounded
 * loopback load of 400 requests/s for 20 s, (a) without memshed: it dies (V8 heap OOM, or the
 * kernel's OOM killer); (b) with memshed's early-warning policy (system + v8 + cgroup-v1 sources,
 * purge and gc at medium and above, 503 shedding from a critical event until that purge has released
 * the memory): it survives the whole run with zero OOM kills
 * and serves at least 99% of the requests. The figures are printed.
 */
import * as path from 'node:path';
import { nativeAvailability } from '@memshed/native';
import { startLoopbackLoad } from './support/system-loopback-load';
import {
  MiB,
  exited,
  removeAllTestCgroups,
  testCgroupsUnavailableReason,
  withTestCgroup,
} from '../kernel/support/cgroup';
import { readJsonLines } from '../kernel/support/json-lines';

const REGISTER = path.join(__dirname, 'support/system-ts-register.js');
const SERVICE = path.join(__dirname, 'support/survival-service.ts');
const LIMIT = 256 * MiB;
const RATE = 400;
const RUN_MS = 20_000;

const native = nativeAvailability();
const unavailable = testCgroupsUnavailableReason() ?? (native.available ? undefined : native.reason);
if (unavailable) console.warn(`survival e2e tests skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

afterAll(() => removeAllTestCgroups());

interface Purge {
  purge: string;
  source: string;
  at: number;
  entries: number;
  before: number;
  after: number;
  releasedMs: number;
  gc: string;
}

interface Outcome {
  /** How it ended: 'alive', 'heap OOM (exit 134)', 'OOM-killed (SIGKILL)', ... */
  end: string;
  /** ms from the first request to the death, or the run's length when alive. */
  livedMs: number;
  sent: number;
  completed: number;
  failed: number;
  /** Requests answered 503 by the service's critical-level shedding. */
  shed: number;
  oomKills: number;
  purges: Purge[];
  errors: string[];
  stderr: string;
}

async function runService(cache: 'strings' | 'buffers', withMemshed: boolean): Promise<Outcome> {
  return withTestCgroup(
    { name: `survival-${cache}-${withMemshed ? 'memshed' : 'bare'}`, limitBytes: LIMIT, timeoutMs: 60_000 },
    async (cgroup) => {
      const args = ['-r', REGISTER, SERVICE, '--cache', cache, ...(withMemshed ? ['--memshed'] : [])];
      const child = cgroup.spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
      const purges: Purge[] = [];
      const errors: string[] = [];
      let shed = 0;
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`service did not listen in 15 s: ${stderr}`)),
          15_000,
        );
        readJsonLines(child, (line) => {
          if ('listening' in line) {
            clearTimeout(timer);
            resolve(Number(line.listening));
          } else if ('purge' in line) purges.push(line as never);
          else if ('error' in line) errors.push(String(line.error));
          else if ('shed' in line) shed = Number(line.shed);
        });
        child.once('exit', (code, signal) =>
          reject(new Error(`service exited (${code}, ${signal}): ${stderr}`)),
        );
      });
      const started = Date.now();
      const load = startLoopbackLoad({ port, path: '/put', rate: RATE, maxRequests: (RATE * RUN_MS) / 1000 });
      let timer: NodeJS.Timeout | undefined;
      const died = await Promise.race([
        exited(child),
        new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), RUN_MS + 500))),
      ]);
      clearTimeout(timer);
      const livedMs = Date.now() - started;
      // Let the last responses arrive before counting.
      if (!died) await new Promise((resolve) => setTimeout(resolve, 200));
      const summary = load.stop();
      const oomKills = cgroup.oomControl().oomKill;
      if (!died) {
        // SIGTERM: the service prints how many requests it shed, then exits.
        child.kill('SIGTERM');
        let grace: NodeJS.Timeout | undefined;
        const stopped = await Promise.race([
          exited(child),
          new Promise((resolve) => (grace = setTimeout(resolve, 2000, undefined))),
        ]);
        clearTimeout(grace);
        if (!stopped) child.kill('SIGKILL');
        await exited(child);
      }
      const end = !died
        ? 'alive'
        : died.signal === 'SIGKILL'
          ? `OOM-killed (SIGKILL)`
          : /heap out of memory/i.test(stderr)
            ? `V8 heap OOM (${died.signal ?? `exit ${died.code}`})`
            : `died (${died.signal ?? `exit ${died.code}`})`;
      return { end, livedMs, ...summary, shed, oomKills, purges, errors, stderr };
    },
  );
}

function report(name: string, outcome: Outcome): void {
  const served = outcome.sent ? (100 * (outcome.completed - outcome.shed)) / outcome.sent : 0;
  const released = outcome.purges
    .map(
      (p) =>
        `${p.purge}/${p.source} ${(p.before / MiB).toFixed(0)}->${(p.after / MiB).toFixed(0)} MiB in ${p.releasedMs} ms`,
    )
    .join('; ');
  console.log(
    `${name}: ${outcome.end} after ${outcome.livedMs} ms; ${outcome.completed}/${outcome.sent} requests answered` +
      `, ${outcome.shed} of them shed (503): ${served.toFixed(2)}% served; ${outcome.failed} failed; OOM kills ${outcome.oomKills}; ` +
      `${outcome.purges.length} purges${released ? `: ${released}` : ''}`,
  );
}

describeKernel('a growing-cache HTTP service in a 256M memory cgroup under 400 requests/s', () => {
  for (const cache of ['strings', 'buffers'] as const) {
    describe(`caching ${cache}`, () => {
      it('dies without memshed', async () => {
        const outcome = await runService(cache, false);
        report(`${cache} without memshed`, outcome);
        expect(outcome.end).not.toBe('alive');
        if (cache === 'buffers') expect(outcome.oomKills).toBeGreaterThan(0);
        else expect(outcome.end).toMatch(/V8 heap OOM|OOM-killed/);
      }, 60_000);

      it('survives with memshed: no OOM kill, at least 99% of the requests answered', async () => {
        const outcome = await runService(cache, true);
        report(`${cache} with memshed`, outcome);
        expect(outcome.errors).toEqual([]);
        expect(outcome.end).toBe('alive');
        expect(outcome.oomKills).toBe(0);
        expect(outcome.purges.length).toBeGreaterThan(0);
        expect((outcome.completed - outcome.shed) / outcome.sent).toBeGreaterThanOrEqual(0.99);
      }, 60_000);
    });
  }
});
