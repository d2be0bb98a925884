/**
 * The process side of action-gc-release.test.ts: fills a cache of 64 KiB entries (Buffers, off
 * the V8 heap, or one-byte strings, on it), registers it with the cache-purge registry, waits for
 * the process to be quiet, then runs the chain cache-purge (critical: clear) + gc through the
 * action runner and watches its own cgroup's memory.usage_in_bytes every ~0.5 ms for a second
 * (what its JavaScript thread sees; the test also watches from outside, see usage-poller.js).
 *
 *   node -r ../e2e/support/system-ts-register.js action-gc-release.child.ts buffer|heap|buffer-one-gc MiB
 *
 * `buffer-one-gc` is the control: the purge followed by one plain gc() and no malloc_trim, what
 * an application would do without the gc action. Prints one JSON line on stdout.
 */
import { ActionRunner, type ActionRunRecord, type SheddingAction } from '@memshed/core';
import { obtainGc } from '@memshed/native';
import { CachePurgeAction, CacheRegistry, cachePurgeOptionsSchema } from '@memshed/action-cache-purge';
import { GcAction, gcOptionsSchema } from '@memshed/action-gc';
import { mallocTrim } from '@memshed/native';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';

const ENTRY_BYTES = 64 * 1024;
const kind = process.argv[2];
const cacheBytes = Number(process.argv[3]) * 1024 * 1024;
const usageFile = path.join(process.env.MEMSHED_TEST_CGROUP ?? '', 'memory.usage_in_bytes');
const usage = () => Number(readFileSync(usageFile, 'utf8'));
const pause = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps the whole thread for `ms` without timers: the event loop has nothing else to do here. */
const sleep = (ms: number) => Atomics.wait(pause, 0, 0, ms);

function fill(): Map<number, Buffer | string> {
  const cache = new Map<number, Buffer | string>();
  for (let i = 0; i < cacheBytes / ENTRY_BYTES; i++) {
    const bytes = Buffer.alloc(ENTRY_BYTES, 97 + (i % 26)); // alloc with a fill touches every page
    cache.set(i, kind === 'heap' ? bytes.toString('latin1') : bytes);
  }
  return cache;
}

async function main(): Promise<void> {
  const gc = obtainGc();
  if (!gc.available) throw new Error(gc.reason);
  const registry = new CacheRegistry();
  registry.register('entries', fill(), { priority: 'low' });
  // Quiesce: collect what filling left behind (the temporary Buffers of the heap strings) and give
  // it back, so that the purge is credited only with the cache.
  gc.gc();
  gc.gc();
  mallocTrim();
  sleep(300);
  const before = usage();
  const purge = new CachePurgeAction(cachePurgeOptionsSchema.parse({}), registry);
  const steps: SheddingAction[] =
    kind === 'buffer-one-gc'
      ? [purge, { id: 'one-gc', run: async () => (gc.gc(), { summary: 'one plain gc()' }) }]
      : [purge, new GcAction(gcOptionsSchema.parse({ minInterval: 0 }))];
  const runner = new ActionRunner();
  const records: ActionRunRecord[] = [];
  runner.results$.subscribe((record) => records.push(record));

  // CLOCK_MONOTONIC, as the usage poller outside the cgroup stamps its reads.
  const startNs = process.hrtime.bigint();
  const start = performance.now();
  await runner.runChain(steps, { level: 'critical' });
  const chainMs = performance.now() - start;
  const target = before - 0.8 * cacheBytes;
  let reachedMs: number | undefined;
  let at100: number | undefined;
  const trace: [number, number][] = [];
  for (;;) {
    const now = performance.now() - start;
    const value = usage();
    if (trace.length === 0 || trace[trace.length - 1][1] !== value)
      trace.push([Number(now.toFixed(2)), value]);
    if (reachedMs === undefined && value <= target) reachedMs = now;
    if (at100 === undefined && now >= 100) at100 = value;
    if (now >= 1000) break;
    sleep(0.5);
  }
  // Until here the process held its memory: what the cgroup gives back after this is its exit.
  const endNs = process.hrtime.bigint();
  process.stdout.write(
    JSON.stringify({
      kind,
      startNs: String(startNs),
      endNs: String(endNs),
      cacheBytes,
      before,
      after: usage(),
      at100,
      reachedMs: reachedMs === undefined ? null : Number(reachedMs.toFixed(2)),
      chainMs: Number(chainMs.toFixed(2)),
      steps: records.map((r) => ({
        action: r.action,
        status: r.status,
        ms: r.finishedAt - r.startedAt,
        summary: r.summary,
        details: r.details,
      })),
      trace: trace.slice(0, 40),
    }) + '\n',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
