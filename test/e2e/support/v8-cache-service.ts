/**
 * A service whose cache lives on the V8 heap, for the v8 kernel test (docs/kernel.md, "What kills a Node
 * service in a memory cgroup"): every `GET /put?n=N` caches a 64 KiB JS string, so under steady
 * load the heap grows until V8 dies of "JavaScript heap out of memory" (the kernel sends nothing).
 *
 *   node -r ./system-ts-register.js v8-cache-service.ts [--memshed] [--options JSON]
 *
 * With --memshed it runs the v8 source and a policy written in code: on medium (or above) at /v8,
 * clear the cache and collect garbage (--options: the v8 source's options, defaults otherwise). Prints JSON lines on stdout: `{"listening":port,...}` once
 * serving, then `{"purge":...}` per purge, with times in ms since the service started listening.
 */
import { createServer } from 'node:http';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { createMemshed } from '@memshed/core';
import v8SourceModule from '@memshed/source-v8';

const ENTRY_BYTES = 64 * 1024;
const withMemshed = process.argv.includes('--memshed');
const cache = new Map<number, string>();
let started = 0;

function print(line: object): void {
  // stdout is a pipe: synchronous on Linux, so a line printed just before a crash is not lost.
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** `gc` obtained at run time (docs/kernel.md), so both runs use the same command line. */
function collector(): () => void {
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

async function startMemshed(): Promise<void> {
  const gc = collector();
  const index = process.argv.indexOf('--options');
  const options: unknown = index > 0 ? JSON.parse(process.argv[index + 1]) : {};
  const memshed = await createMemshed({ modules: [v8SourceModule], sources: [{ use: 'v8', with: options }] });
  memshed.errors$.subscribe((error) => print({ error: error.message }));
  memshed.listen('medium', { scope: '/v8' }).subscribe((event) => {
    const begin = performance.now();
    const entries = cache.size;
    const before = v8.getHeapStatistics();
    cache.clear();
    gc();
    const after = v8.getHeapStatistics();
    print({
      purge: Math.round(performance.now() - started),
      level: event.level,
      // Count-based events carry the window's pressure (GC efficiency); headroom signals do not.
      pressure: event.pressure,
      entries,
      committedBefore: before.total_heap_size,
      committedAfter: after.total_heap_size,
      ms: Number((performance.now() - begin).toFixed(1)),
    });
  });
}

async function main(): Promise<void> {
  if (withMemshed) await startMemshed();
  let counter = 0;
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/put')) {
      const n = counter++;
      // A flat one-byte string of 64 KiB, distinct per entry.
      cache.set(n, Buffer.alloc(ENTRY_BYTES, n & 0xff).toString('latin1'));
    }
    response.end(String(cache.size));
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    started = performance.now();
    const address = server.address();
    print({
      listening: typeof address === 'object' && address ? address.port : 0,
      memshed: withMemshed,
      heapLimit: v8.getHeapStatistics().heap_size_limit,
      constrainedMemory: process.constrainedMemory?.(),
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(2);
});
