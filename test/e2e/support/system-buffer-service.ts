/**
 * A service whose cache lives in Buffers (off the V8 heap), for the system kernel test (docs/kernel.md,
 * "What kills a Node service in a memory cgroup"): every `GET /put?n=N` caches 64 KiB, so under
 * steady load the cgroup's usage grows until the kernel OOM-kills the process, ~150 ms after its
 * first vmpressure events.
 *
 *   node -r ./system-ts-register.js system-buffer-service.ts
 *
 * Runs memshed with the system source watching its own cgroup (container part only) and prints
 * JSON lines on stdout: `{"listening":port,"mode":...}` once serving, then one `{"event":...}` per
 * pressure event, stamped with the wall clock (`Date.now()`) so the test can compare it with the
 * kernel's events it receives itself.
 */
import { createServer } from 'node:http';
import { createMemshed } from '@memshed/core';
import { SystemSource, systemSourceOptionsSchema } from '@memshed/source-system';

const ENTRY_BYTES = 64 * 1024;
const cache = new Map<number, Buffer>();

function print(line: object): void {
  // stdout is a pipe: synchronous on Linux, so a line printed just before the OOM kill is not lost.
  process.stdout.write(JSON.stringify(line) + '\n');
}

async function main(): Promise<void> {
  const source = new SystemSource(systemSourceOptionsSchema.parse({ host: false }));
  const memshed = await createMemshed({ sources: [source] });
  memshed.errors$.subscribe((error) => print({ error: error.message }));
  memshed.events$.subscribe((event) =>
    print({
      event: event.level,
      scope: event.scope,
      source: event.source,
      at: Date.now(),
      entries: cache.size,
    }),
  );
  const status = memshed.sources[0];
  if (status.state !== 'running') throw new Error(`system source ${status.state}: ${status.error?.message}`);

  let counter = 0;
  const server = createServer((request, response) => {
    if (request.url?.startsWith('/put')) {
      const n = counter++;
      // Its own backing store, written through so every page is charged to the cgroup.
      cache.set(n, Buffer.allocUnsafeSlow(ENTRY_BYTES).fill(n & 0xff));
    }
    response.end(String(cache.size));
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    print({
      listening: typeof address === 'object' && address ? address.port : 0,
      mode: source.containerMode,
      detail: status.availability.available ? status.availability.detail : undefined,
      at: Date.now(),
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(2);
});
