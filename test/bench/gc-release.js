#!/usr/bin/env node
// Release time of the gc action: how long after a 256 MiB cache is dropped the memory
// cgroup's usage has fallen by 80% of it, with the gc action sweeping synchronously (the default)
// and concurrently (V8's background sweeper and unmapper; the action then collects twice), for a
// Buffer cache and a JS-string cache. Runs alternate between the two modes, each in a fresh
// process (test/bench/support/gc-release-child.js) in one 1G child memory cgroup; the usage is
// read every ~0.2 ms from outside the cgroup (test/kernel/support/usage-watch.ts, CLOCK_MONOTONIC
// stamps). The drop is `Map.clear()`, so the figures are the gc action's alone (the kernel test
// test/kernel/action-gc-release.test.ts times the whole cache-purge + gc chain).
//
// Run: `npm run bench -- gc-release` (builds first), or after `npx tsc -b`:
// `node test/bench/gc-release.js [--runs N] [--mib MiB]`. Needs root on a cgroup v1 memory
// controller and the native addon built. Default 5 runs per cell.
'use strict';

const path = require('node:path');
const support = require('./support/kernel-support');

const RUNS = Number(support.argument('--runs', 5));
const CACHE_MIB = Number(support.argument('--mib', 256));
const CHILD = path.join(__dirname, 'support/gc-release-child.js');
const { watchUsage, msUntilAtOrBelow } = support.requireTs(
  path.join(__dirname, '../kernel/support/usage-watch.ts'),
);
const { MiB } = support;

/** Resolves with the child's stdout when it exits 0. */
function collect(child) {
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data) => (stdout += data));
  child.stderr.on('data', (data) => (stderr += data));
  return new Promise((resolve, reject) =>
    child.once('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`gc-release child exited ${code}: ${stderr}`)),
    ),
  );
}

async function once(cgroup, kind, sweep) {
  const watch = await watchUsage(cgroup.path);
  try {
    const child = cgroup.spawn(process.execPath, [CHILD, kind, sweep, String(CACHE_MIB)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MEMSHED_BENCH_CGROUP: cgroup.path },
    });
    const result = JSON.parse((await collect(child)).trim().split('\n').pop());
    const trace = await watch.stop();
    const ms = msUntilAtOrBelow(trace, result.startNs, result.before - 0.8 * result.cacheBytes);
    return {
      ms: ms ?? Infinity,
      collections: result.details.gc.collections.length,
      sweeping: result.details.sweeping,
    };
  } finally {
    watch.kill();
  }
}

function range(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const fmt = (v) => (Number.isFinite(v) ? v.toFixed(1) : 'never');
  return `${fmt(support.median(sorted))} ms (${fmt(sorted[0])}-${fmt(sorted[sorted.length - 1])})`;
}

async function main() {
  console.log(`gc-release: ${support.machine()}; load average ${require('node:os').loadavg()[0].toFixed(2)}`);
  const rows = [];
  await support.withTestCgroup(
    { name: 'bench-gc-release', limitBytes: 1024 * MiB, timeoutMs: 600_000 },
    async (cgroup) => {
      for (const kind of ['buffer', 'heap']) {
        const cells = { synchronous: [], concurrent: [] };
        for (let run = 0; run < RUNS; run++) {
          for (const sweep of ['synchronous', 'concurrent']) {
            const result = await once(cgroup, kind, sweep);
            cells[sweep].push(result);
            process.stderr.write(
              `${kind} ${sweep} #${run + 1}: ${result.ms.toFixed(1)} ms, ${result.collections} collection(s), ${result.sweeping}\n`,
            );
          }
        }
        const sync = cells.synchronous.map((r) => r.ms);
        const conc = cells.concurrent.map((r) => r.ms);
        rows.push(
          `| ${kind === 'heap' ? 'JS strings' : 'Buffers'} | ${range(sync)} | ${range(conc)} | ${(support.median(conc) / support.median(sync)).toFixed(2)}x |`,
        );
      }
    },
  );
  console.log(
    `\n${CACHE_MIB} MiB cache of 64 KiB entries dropped, then the gc action; usage down by 80% of it, median (min-max) of ${RUNS}:\n`,
  );
  console.log('| cache | sweep: synchronous (default) | sweep: concurrent | concurrent / synchronous |');
  console.log('| --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
