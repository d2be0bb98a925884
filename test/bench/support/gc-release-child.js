// One process for test/bench/gc-release.js, run inside a memory cgroup: fills a 256 MiB (or
// argv[4]) cache of 64 KiB entries (Buffers or one-byte strings), collects and trims what filling
// left, drops the cache, then runs the built gc action with `sweep: <argv[3]>` through the action
// runner. Prints one JSON line: the CLOCK_MONOTONIC time the drop began (for the usage poller
// outside the cgroup), the usage before, and the action's details.
//
//   node gc-release-child.js buffer|heap synchronous|concurrent [MiB]
'use strict';

const { ActionRunner } = require('@memshed/core');
const { GcAction, gcOptionsSchema } = require('@memshed/action-gc');
const { mallocTrim, obtainGc } = require('@memshed/native');
const fs = require('node:fs');
const path = require('node:path');

const [kind, sweep, mib = '256'] = process.argv.slice(2);
const ENTRY = 64 * 1024;
const cacheBytes = Number(mib) * 1024 * 1024;
const usageFile = path.join(process.env.MEMSHED_BENCH_CGROUP, 'memory.usage_in_bytes');
const pause = new Int32Array(new SharedArrayBuffer(4));

async function main() {
  const gc = obtainGc();
  if (!gc.available) throw new Error(gc.reason);
  let cache = new Map();
  for (let i = 0; i < cacheBytes / ENTRY; i++) {
    const bytes = Buffer.alloc(ENTRY, 97 + (i % 26));
    cache.set(i, kind === 'heap' ? bytes.toString('latin1') : bytes);
  }
  gc.gc();
  gc.gc();
  mallocTrim();
  Atomics.wait(pause, 0, 0, 300);
  const action = new GcAction(gcOptionsSchema.parse({ sweep, minInterval: 0, cgroup: 'none' }));
  const runner = new ActionRunner();
  const before = Number(fs.readFileSync(usageFile, 'utf8'));
  const startNs = process.hrtime.bigint();
  cache.clear();
  cache = undefined;
  const record = await runner.run(action, { level: 'critical' });
  process.stdout.write(
    `${JSON.stringify({ startNs: String(startNs), before, cacheBytes, status: record.status, details: record.details })}\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
