#!/usr/bin/env node
// End-to-end survival matrix: examples/express-app caching 64 KiB per request (JS
// strings or Buffers) in a 256M and a 512M child memory cgroup, 400 requests/s on loopback for 60 s,
// under each guard: none, memshed's default policy, @fastify/under-pressure's heap/RSS checks, and
// memshed fed by the vmstat or the psi source alone. test/e2e/support/survival-matrix.ts runs one
// cell; test/e2e/survival.test.ts asserts the `memshed` and `none` rows in CI; this prints them all
// as the table of docs/benchmarks.md.
//
// Runs go one at a time: two services at 400 requests/s each starve each other on 2 vCPUs (and die
// later than alone), and vmstat and psi read system-wide files (/proc/vmstat, /proc/pressure/memory
// on cgroup v1). About 17 minutes in all.
//
// Run: `npm run bench -- survival [--seconds 60] [--rate 400] [--guards none,memshed,...]
// [--limits 256,512] [--payloads string,buffer] [--plot FILE.svg]`. `--plot` also draws each run's
// cgroup usage over time (README's plot: `--limits 256 --guards none,memshed,under-pressure --plot
// docs/images/survival-256m.svg`). Needs root on a cgroup v1 memory controller and the
// native addon built (`npx tsc -b` is not needed: the service runs from its TypeScript sources).
'use strict';

require('../e2e/support/system-ts-register.js');
const { machine, argument, removeAllTestCgroups } = require('./support/kernel-support');
const { runSurvival, describeRun } = require('../e2e/support/survival-matrix.ts');

const SECONDS = Number(argument('--seconds', 60));
const RATE = Number(argument('--rate', 400));
const GUARDS = argument('--guards', 'none,memshed,under-pressure,vmstat,psi').split(',');
const LIMITS = argument('--limits', '256,512').split(',').map(Number);
const PAYLOADS = argument('--payloads', 'string,buffer').split(',');
const PLOT = argument('--plot', undefined);

function row(run) {
  const end =
    run.end === 'alive'
      ? `alive ${run.seconds} s`
      : `${run.end} at ${(run.endedAtMs / 1000).toFixed(1)} s${run.end === 'OOM-killed' ? ` (oom_kill ${run.oomKills})` : ''}`;
  const ms = (value) => (value === undefined ? '-' : value.toFixed(1));
  const warned = run.firstMedium
    ? `${(run.firstMedium.atMs / 1000).toFixed(1)} s (${run.firstMedium.source}) / ${run.releaseMs ?? '-'} ms`
    : '-';
  return (
    `| ${run.payload} | ${run.limitMiB}M | ${run.guard} | ${end} | ` +
    `${run.served.toLocaleString('en')} / ${run.attempted.toLocaleString('en')} (${(100 * run.successRate).toFixed(1)} %) | ` +
    `${run.shed.toLocaleString('en')} | ${run.failed.toLocaleString('en')} | ${ms(run.p50Ms)} / ${ms(run.p99Ms)} | ` +
    `${run.purges} | ${warned} |`
  );
}

async function main() {
  console.log(`survival: ${machine()}`);
  console.log(
    `${SECONDS} s at ${RATE} requests/s per run; guards ${GUARDS.join(', ')}; limits ${LIMITS.join(', ')}M`,
  );
  const runs = [];
  const record = (run) => {
    runs.push(run);
    console.log(describeRun(run));
  };
  for (const guard of GUARDS) {
    for (const limitMiB of LIMITS) {
      const cells = PAYLOADS.map((payload) => ({ payload, limitMiB, guard, seconds: SECONDS, rate: RATE }));
      for (const cell of cells) record(await runSurvival(cell));
    }
  }
  console.log(
    '\n| payload | limit | guard | outcome | served / attempted | shed (503) | failed | p50 / p99 ms (served) | purges | first medium+ event / usage falling after |',
  );
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const run of runs) console.log(row(run));
  if (PLOT) {
    const { writeFileSync } = require('node:fs');
    const { renderSurvivalSvg } = require('./support/survival-plot');
    writeFileSync(PLOT, renderSurvivalSvg(runs));
    console.log(`\nplot: ${PLOT}`);
  }
}

main()
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => removeAllTestCgroups());
