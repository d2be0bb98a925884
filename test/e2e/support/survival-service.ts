/**
 * The service of the end-to-end survival test (issue 10): every `GET /put?n=N` caches 64 KiB,
 * either as a JS string (V8 heap: dies of heap OOM) or as a Buffer (off-heap: OOM-killed by the
 * kernel), so under steady load it grows until something kills it (KERNEL.md, "What kills a Node
 * service in a memory cgroup").
 *
 *   node -r ./system-ts-register.js survival-service.ts --cache strings|buffers [--memshed]
 *
 * With --memshed it runs memshed's early-warning policy in code: the system source (usage-threshold
 * eventfds on its own cgroup, 75% / 85%), the v8 source (heap against its limit) and the cgroup-v1
 * source (the kernel's vmpressure); at medium or above it purges the cache and runs the gc action
 * (collections + malloc_trim); from a critical event until that purge has given the memory back it
 * sheds requests with 503. (Not for as long as `level$` says critical: the monitor holds a state
 * until a quiet period has passed, and shedding that long after the memory is back costs ~5 s of
 * traffic for nothing — 24% of this run's requests when the v8 source's first event is critical.)
 * JSON lines on stdout: `{"listening":port}`, then `{"purge":...}` per purge with the cgroup usage
 * before and after, stamped with `Date.now()`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createMemshed, type PressureState } from '@memshed/core';
import { GcAction, gcOptionsSchema } from '@memshed/action-gc';
import { CgroupV1Source, cgroupV1OptionsSchema } from '@memshed/source-cgroup-v1';
import { SystemSource, systemSourceOptionsSchema } from '@memshed/source-system';
import { V8Source, v8SourceOptionsSchema } from '@memshed/source-v8';

const ENTRY_BYTES = 64 * 1024;
const strings = process.argv[process.argv.indexOf('--cache') + 1] === 'strings';
const withMemshed = process.argv.includes('--memshed');
const cache = new Map<number, string | Buffer>();
let state: PressureState = 'normal';
/** Set by a critical event, cleared when the purge it started has given the memory back. */
let shedding = false;
let shed = 0;

function print(line: object): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** This process's memory cgroup usage (v1), to see memory actually given back. */
function usage(): number {
  const line = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((entry) => entry.split(':')[1]?.split(',').includes('memory'));
  const path = line?.split(':')[2] ?? '/';
  return Number(readFileSync(`/sys/fs/cgroup/memory${path}/memory.usage_in_bytes`, 'utf8'));
}

async function startMemshed(): Promise<void> {
  const memshed = await createMemshed({
    sources: [
      new SystemSource(systemSourceOptionsSchema.parse({ host: false })),
      new V8Source(v8SourceOptionsSchema.parse({})),
      new CgroupV1Source(cgroupV1OptionsSchema.parse({})),
    ],
  });
  const failed = memshed.sources.filter((source) => source.state !== 'running');
  if (failed.length) throw new Error(`sources not running: ${failed.map((source) => source.id).join(', ')}`);
  memshed.errors$.subscribe((error) => print({ error: error.message }));
  memshed.level$.subscribe((value) => (state = value));
  const gc = new GcAction(gcOptionsSchema.parse({}));
  let purging = false;
  memshed.events$.subscribe((event) => {
    if (event.level === 'low') return;
    if (event.level === 'critical') shedding = true;
    if (purging) return;
    purging = true;
    const at = Date.now();
    const before = usage();
    const entries = cache.size;
    cache.clear();
    void memshed.runner.run(gc, { level: state, trigger: event }).then((record) => {
      purging = false;
      shedding = false;
      print({
        purge: event.level,
        source: event.source,
        scope: event.scope,
        at,
        entries,
        before,
        after: usage(),
        releasedMs: Date.now() - at,
        gc: record.status,
      });
    });
  });
}

async function main(): Promise<void> {
  if (withMemshed) await startMemshed();
  let counter = 0;
  const server = createServer((request, response) => {
    if (shedding) {
      shed++;
      response.statusCode = 503;
      response.end('shed');
      return;
    }
    if (request.url?.startsWith('/put')) {
      const n = counter++;
      if (strings) cache.set(n, Buffer.alloc(ENTRY_BYTES, n & 0xff).toString('latin1'));
      else cache.set(n, Buffer.allocUnsafeSlow(ENTRY_BYTES).fill(n & 0xff));
    }
    response.end(String(cache.size));
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    print({ listening: typeof address === 'object' && address ? address.port : 0, at: Date.now() });
  });
  process.on('SIGTERM', () => {
    print({ shed, entries: cache.size });
    process.exit(0);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(2);
});
