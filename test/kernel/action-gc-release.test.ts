/**
 * The gc action against the kernel (KERNEL.md, "Returning memory to the kernel from Node"): a
 * process holding a 256 MiB cache inside a 1G memory cgroup purges it through cache-purge + gc.
 *
 * - Buffers (off-heap: two collections, then glibc's malloc_trim): the cgroup's
 *   memory.usage_in_bytes falls by at least 80% of the cache within 100 ms of the start of the
 *   purge.
 * - JS strings (V8 heap): V8 frees at least 80% of the cache within 100 ms, and the cgroup's usage
 *   falls by as much once V8's unmapper has returned the pages (asserted within 1 s; measured
 *   120-360 ms on this VM, bound by V8's munmap of each 256 KiB page: see docs/actions/gc.md).
 *
 * A control run (purge + one plain gc(), no malloc_trim) is measured and printed, not asserted:
 * it is what the action exists to beat. Timings need an otherwise idle machine (the kernel project
 * runs in band); the load average is printed with the figures.
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

const REGISTER = path.join(__dirname, '../e2e/support/system-ts-register.js');
const CHILD = path.join(__dirname, 'action-gc-release.child.ts');
const ADDON_DIR = path.join(__dirname, '../../packages/native/build/Release');
const CACHE_MIB = 256;
/** The issue's budget, from the start of the purge: Buffers back to the kernel; JS-heap strings freed in V8. */
const BUDGET_MS = 100;
const HEAP_FREED_IN_V8_MS = BUDGET_MS;
/**
 * What CI asserts for Buffers: the issue's 100 ms target is met on an idle machine (43-85 ms in 7 of
 * 8 runs) but not reliably under load (57-115 ms; malloc_trim alone took 13-75 ms), so the test
 * bounds it at 2.5x and prints whether the target was met. Issue 6 tracks the 100 ms target.
 */
const BUFFER_CI_BOUND_MS = 250;
/** V8 unmaps its freed heap pages itself, at its own pace: measured 120-360 ms here; a generous bound. */
const HEAP_RETURNED_TO_KERNEL_MS = 1000;

interface Release {
  kind: string;
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
    return JSON.parse(stdout.trim().split('\n').pop()!) as Release;
  });
}

function report(result: Release): string {
  const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
  const gc = result.steps.find((s) => s.action === 'gc');
  return [
    `${result.kind} (load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs): cache ${mib(result.cacheBytes)}, cgroup usage ${mib(result.before)} -> ${mib(result.at100)} at 100 ms -> ${mib(result.after)} at 1 s`,
    `  -80% of the cache reached at ${result.reachedMs === null ? 'never (within 1 s)' : `${result.reachedMs} ms`}; chain took ${result.chainMs} ms`,
    ...result.steps.map((s) => `  ${s.action}: ${s.status} in ${s.ms} ms, ${s.summary ?? ''}`),
    ...(gc?.details
      ? [
          `  gc ms: ${JSON.stringify(gc.details.ms)}, collections: ${JSON.stringify((gc.details.gc as { collections?: unknown }).collections)}`,
        ]
      : []),
  ].join('\n');
}

describeKernel('cache-purge + gc in a real memory cgroup', () => {
  it('gives a 256 MiB Buffer cache back to the kernel within 100 ms (asserted: 250 ms, see BUFFER_CI_BOUND_MS)', async () => {
    const result = await release('buffer');
    console.log(report(result));
    console.log(
      `buffer release: ${result.reachedMs} ms; the ${BUDGET_MS} ms target was ${result.reachedMs !== null && result.reachedMs <= BUDGET_MS ? 'met' : 'MISSED'}`,
    );
    expect(result.steps.map((s) => [s.action, s.status])).toEqual([
      ['cache-purge', 'ok'],
      ['gc', 'ok'],
    ]);
    expect(result.before - result.at100).toBeGreaterThanOrEqual(0.8 * result.cacheBytes);
    expect(result.reachedMs).not.toBeNull();
    expect(result.reachedMs!).toBeLessThanOrEqual(BUFFER_CI_BOUND_MS);
  });

  it('frees a 256 MiB JS-heap (string) cache in V8 within 100 ms, and the kernel gets it back', async () => {
    const result = await release('heap');
    console.log(report(result));
    expect(result.steps.every((s) => s.status === 'ok')).toBe(true);
    const [purge, gc] = result.steps;
    const first = (gc.details!.gc as { collections: { heapFreed: number; ms: number }[] }).collections[0];
    // What the action controls: the first collection gives V8 the whole cache back, in time.
    expect(first.heapFreed).toBeGreaterThanOrEqual(0.8 * result.cacheBytes);
    expect(purge.ms + first.ms).toBeLessThanOrEqual(HEAP_FREED_IN_V8_MS);
    // What V8 then does: its unmapper returns the ~1,360 freed 256 KiB pages one munmap at a time,
    // which takes 120-360 ms on this 2-vCPU VM (docs/actions/gc.md), not the 100 ms Buffers meet.
    expect(result.reachedMs).not.toBeNull();
    expect(result.reachedMs!).toBeLessThanOrEqual(HEAP_RETURNED_TO_KERNEL_MS);
    expect(result.before - result.after).toBeGreaterThanOrEqual(0.8 * result.cacheBytes);
  });

  it('measures the control: the same purge with one plain gc() and no malloc_trim', async () => {
    const result = await release('buffer-one-gc');
    console.log(`${report(result)}\n  (control, not asserted: what the gc action exists to beat)`);
    expect(result.steps.map((s) => s.status)).toEqual(['ok', 'ok']);
  });
});
