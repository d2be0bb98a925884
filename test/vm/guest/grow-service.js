#!/usr/bin/env node
/**
 * Runs inside the cgroup v2 VM (test/vm/vm.ts), in a memory-limited v2 group, from the built packages:
 *
 *   node grow-service.js memshed|none STEP_KIB EVERY_MS TOTAL_MIB
 *
 * A small service whose cache only grows: every EVERY_MS it caches STEP_KIB in a Buffer (off the V8
 * heap, every page written, so charged to the group), as a service caching what each request
 * brings. With `memshed` it runs the default policy memshed recommends for a Node service
 * (examples/express-app/.memshedrc.yaml: v8 + system sources, cache-purge and gc at medium) with
 * the cache registered as a low-priority cache; with `none`, nothing protects it. Prints JSON
 * lines: {"type":"ready"}, {"type":"action",...} per action run, {"type":"tick",...} every second,
 * and {"type":"alive"} once it has cached TOTAL_MIB in all (however slowly emulation runs the loop)
 * and held what is left for a second more; then exits 0, unless the kernel killed it first.
 */
'use strict';
const path = require('node:path');

const [guard, stepKiB, everyMs, totalMiB] = process.argv.slice(2);
if (!['memshed', 'none'].includes(guard) || !Number(stepKiB) || !Number(everyMs) || !Number(totalMiB))
  throw new Error('usage: grow-service.js memshed|none STEP_KIB EVERY_MS TOTAL_MIB');
const steps = Math.ceil((Number(totalMiB) * 1024) / Number(stepKiB));
const CONFIG = path.join(__dirname, '../../../examples/express-app/.memshedrc.yaml');

const print = (record) => process.stdout.write(`${JSON.stringify({ ...record, at: Date.now() })}\n`);
const cache = new Map();

async function protect() {
  const { loadConfig, createMemshedFromConfig } = require('@memshed/config');
  const { cachesOf } = require('@memshed/action-cache-purge');
  const memshed = await createMemshedFromConfig({ loaded: await loadConfig({ config: CONFIG }) });
  cachesOf(memshed).register('items', cache, { priority: 'low', sizeOf: (buffer) => buffer.length });
  memshed.actions$.subscribe((record) =>
    print({
      type: 'action',
      action: record.action,
      status: record.status,
      level: record.level,
      freedBytes: record.freedBytes,
      cached: cache.size,
    }),
  );
  memshed.events$.subscribe((event) => {
    if (event.level !== 'low') print({ type: 'event', source: event.source, level: event.level });
  });
  memshed.errors$.subscribe((error) => print({ type: 'error', message: error.message }));
  return {
    sources: memshed.sources.map((status) => `${status.id}:${status.state}`),
    // Why each source that is unavailable here is (an optional one is skipped without an error).
    unavailable: memshed.sources.flatMap(({ id, availability }) =>
      availability.available ? [] : [`${id}: ${availability.reason}`],
    ),
  };
}

async function main() {
  const { sources, unavailable } = guard === 'memshed' ? await protect() : { sources: [], unavailable: [] };
  print({ type: 'ready', guard, sources, unavailable });
  const started = Date.now();
  let next = 0;
  const tick = setInterval(
    () => print({ type: 'tick', cached: cache.size, added: next, rss: process.memoryUsage.rss() }),
    1000,
  );
  const grow = setInterval(() => {
    cache.set(next, Buffer.allocUnsafeSlow(Number(stepKiB) * 1024).fill(next & 0xff));
    if (++next < steps) return;
    clearInterval(grow);
    setTimeout(() => {
      clearInterval(tick);
      print({ type: 'alive', seconds: (Date.now() - started) / 1000, added: next, cached: cache.size });
      process.exit(0);
    }, 1000);
  }, Number(everyMs));
}

main().catch((error) => {
  print({ type: 'fatal', message: String(error?.stack ?? error) });
  process.exit(1);
});
