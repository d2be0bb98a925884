/**
 * The gc action against the kernel (docs/kernel.md, "Returning memory to the kernel from Node"): a
 * process holding a 256 MiB cache of 64 KiB entries inside a 1G memory cgroup purges it through
 * cache-purge + gc, and the cgroup's memory.usage_in_bytes must fall by at least 80% of the cache
 * within the budget of its kind, from the start of the purge (docs/actions/gc.md, "Budgets"):
 * - Buffers, 100 ms: off-heap, one collection with synchronous sweeping hands the stores to glibc,
 *   and malloc_trim returns them with a few large madvise calls.
 * - JS strings, 200 ms: V8's own heap, which the collection sweeps and unmaps one page at a time,
 *   so the kernel's work grows with the number of pages (the measurements are in gc.md).
 *
 * The usage is watched from outside the cgroup (support/usage-watch.ts: a poller process, a read every ~0.2 ms
 * stamped with CLOCK_MONOTONIC), because the process cannot sample itself while its synchronous
 * collection is returning the memory. Each kind runs RUNS times: the median must meet the kind's
 * budget and every run a bound for a loaded CI machine; all runs are printed, with what the
 * process's own JavaScript thread saw.
 *
 * A control run (purge + one plain gc(), no malloc_trim) is measured and printed, not asserted:
 * it is what the action exists to beat. The kernel project runs in band; the load average is
 * printed with the figures.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MiB,
  exited,
  removeAllTestCgroups,
  testCgroupsUnavailableReason,
  withTestCgroup,
} from './support/cgroup';
import { msUntilAtOrBelow, watchUsage } from './support/usage-watch';

const REGISTER = path.join(__dirname, '../e2e/support/system-ts-register.js');
const CHILD = path.join(__dirname, 'action-gc-release.child.ts');
const RUNS = 3;
const ADDON_DIR = path.join(__dirname, '../../packages/native/build/Release');
const CACHE_MIB = 256;
/**
 * The budgets, from the start of the purge to the usage down by 80% of the cache, asserted on the
 * median of the runs; and the bound every single run must meet: within the second the usage is
 * watched. A single run is wall time on a 2-vCPU machine, and competing processes stretch it by
 * the time the thread waits for a CPU, not by work (docs/actions/gc.md: loaded string runs took
 * 184-394 ms); the median of three is the performance claim.
 */
const BUFFER_BUDGET_MS = 100;
const BUFFER_RUN_BOUND_MS = 1000;
const HEAP_BUDGET_MS = 200;
const HEAP_RUN_BOUND_MS = 1000;

interface Release {
  kind: string;
  startNs: string;
  /** When the child stopped watching, just before it wrote its report and exited. */
  endNs: string;
  /** When the usage poller outside the cgroup first read the usage 80% of the cache down. */
  externalMs: number | null;
  cacheBytes: number;
  before: number;
  after: number;
  at100: number;
  reachedMs: number | null;
  chainMs: number;
  steps: {
    action: string;
    status: string;
    ms: number;
    summary?: string;
    details?: Record<string, unknown>;
  }[];
  trace: [number, number][];
}

const unavailable =
  testCgroupsUnavailableReason() ??
  (fs.existsSync(ADDON_DIR) && fs.readdirSync(ADDON_DIR).some((f) => f.endsWith('.node'))
    ? undefined
    : `the native addon is not built (${ADDON_DIR}/*.node): run npm run build in packages/native`);
if (unavailable) console.warn(`gc release kernel test skipped: ${unavailable}`);
const describeKernel = unavailable ? describe.skip : describe;

afterAll(() => removeAllTestCgroups());

function release(kind: 'buffer' | 'heap' | 'buffer-one-gc'): Promise<Release> {
  return withTestCgroup({ name: `gc-${kind}`, limitBytes: 1024 * MiB, timeoutMs: 60_000 }, async (cgroup) => {
    const watch = await watchUsage(cgroup.path);
    try {
      const child = cgroup.spawn(process.execPath, ['-r', REGISTER, CHILD, kind, String(CACHE_MIB)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, MEMSHED_TEST_CGROUP: cgroup.path },
      });
      let stdout = '';
      let stderr = '';
      child.stdout!.on('data', (data: Buffer) => (stdout += data.toString()));
      child.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
      const { code, signal } = await exited(child);
      if (code !== 0) throw new Error(`child exited (${code}, ${signal}): ${stderr}`);
      const result = JSON.parse(stdout.trim().split('\n').pop()!) as Omit<Release, 'externalMs'>;
      const trace = await watch.stop();
      // Only what the cgroup gave back while the child lived: its exit returns everything anyway.
      const alive = trace.filter(([ns]) => BigInt(ns) <= BigInt(result.endNs));
      const externalMs = msUntilAtOrBelow(alive, result.startNs, result.before - 0.8 * result.cacheBytes);
      return { ...result, externalMs };
    } finally {
      watch.kill();
    }
  });
}

async function releases(kind: 'buffer' | 'heap'): Promise<Release[]> {
  const results: Release[] = [];
  for (let i = 0; i < RUNS; i++) results.push(await release(kind));
  return results;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function report(result: Release): string {
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  const gc = result.steps.find((s) => s.action === 'gc');
  return [
    `${result.kind} (load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs): cache ${mib(result.cacheBytes)}, cgroup usage ${mib(result.before)} -> ${mib(result.at100)} at 100 ms -> ${mib(result.after)} at 1 s`,
    `  -80% of the cache reached at ${result.externalMs === null ? 'never (within 1 s)' : `${result.externalMs.toFixed(1)} ms`} (seen by the process's own JavaScript thread at ${result.reachedMs ?? 'never'} ms); chain took ${result.chainMs} ms`,
    ...result.steps.map((s) => `  ${s.action}: ${s.status} in ${s.ms} ms, ${s.summary ?? ''}`),
    ...(gc?.details
      ? [
          `  gc ms: ${JSON.stringify(gc.details.ms)}, collections: ${JSON.stringify((gc.details.gc as { collections?: unknown }).collections)}`,
        ]
      : []),
  ].join('\n');
}

/**
 * Prints the runs, asserts what every run must show and that each is within `bound`, and asserts
 * `budget` on their median.
 */
function expectReleased(kind: string, results: Release[], budget: number, bound: number): void {
  for (const result of results) console.log(report(result));
  const times = results.map((r) => r.externalMs);
  const middle = times.every((t) => t !== null) ? median(times as number[]) : null;
  const met = middle !== null && middle <= budget;
  console.log(
    `${kind} release, usage down by 80% of the cache: ${times.map((t) => (t === null ? 'never' : `${t.toFixed(1)} ms`)).join(', ')}; median ${middle === null ? 'n/a' : `${middle.toFixed(1)} ms`}: the ${budget} ms budget was ${met ? 'met' : 'MISSED'}`,
  );
  for (const result of results) {
    expect(result.steps.map((s) => [s.action, s.status])).toEqual([
      ['cache-purge', 'ok'],
      ['gc', 'ok'],
    ]);
    expect(result.before - result.after).toBeGreaterThanOrEqual(0.8 * result.cacheBytes);
    expect(result.externalMs).not.toBeNull();
    expect(result.externalMs!).toBeLessThanOrEqual(bound);
  }
  expect(middle).not.toBeNull();
  expect(middle!).toBeLessThanOrEqual(budget);
}

describeKernel('cache-purge + gc in a real memory cgroup', () => {
  it(`gives a 256 MiB Buffer cache back to the kernel within ${BUFFER_BUDGET_MS} ms`, async () => {
    expectReleased('buffer', await releases('buffer'), BUFFER_BUDGET_MS, BUFFER_RUN_BOUND_MS);
  }, 120_000);

  it(`gives a 256 MiB JS-heap (string) cache back to the kernel within ${HEAP_BUDGET_MS} ms`, async () => {
    const results = await releases('heap');
    expectReleased('heap', results, HEAP_BUDGET_MS, HEAP_RUN_BOUND_MS);
    // The collection itself freed it: synchronous sweeping, and the whole cache gone from V8.
    for (const result of results) {
      const gc = result.steps[1].details as {
        sweeping: string;
        gc: { collections: { heapFreed: number }[] };
      };
      expect(gc.sweeping).toBe('synchronous');
      expect(gc.gc.collections[0].heapFreed).toBeGreaterThanOrEqual(0.8 * result.cacheBytes);
    }
  }, 120_000);

  it('measures the control: the same purge with one plain gc() and no malloc_trim', async () => {
    const result = await release('buffer-one-gc');
    console.log(`${report(result)}\n  (control, not asserted: what the gc action exists to beat)`);
    expect(result.steps.map((s) => s.status)).toEqual(['ok', 'ok']);
  }, 60_000);
});
