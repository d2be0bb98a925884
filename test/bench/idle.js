#!/usr/bin/env node
// Idle overhead: what each source costs a process that is not under pressure, over a
// bounded period (60 s by default), against a bare node process, and @fastify/under-pressure with
// all its checks for scale.
//
// Each variant is its own child process (test/bench/support/idle-child.js) in its own 512M memory
// cgroup, running only that source; they run at the same time (idle processes do not compete for
// the 2 CPUs). Measured from outside, between a first sample --settle seconds after the child is
// ready (default 30: past V8's one-off post-start-up work, the memory reducer's GCs, which costs a
// process that loaded memshed ~50-75 ms of CPU and a few wakeups in its first ~20 s) and a second
// one --seconds later, summed over all the process's threads (/proc/PID/task/*): CPU time
// (schedstat: ns on CPU) and wakeups (voluntary + nonvoluntary context switches from status). The
// main thread's wakeups are given apart: they are the event loop's.
//
// Run: `npm run bench -- idle` (builds first), or after `npx tsc -b`:
// `node test/bench/idle.js [--seconds N] [--settle N]` (or MEMSHED_BENCH_SECONDS=N, since `npm run bench`
// passes only benchmark names).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const support = require('./support/kernel-support');

const SECONDS = Number(support.argument('--seconds', process.env.MEMSHED_BENCH_SECONDS ?? 60));
const SETTLE_SECONDS = Number(support.argument('--settle', 30));
const VARIANTS = [
  ['bare', 'bare node process (reference)'],
  ['core', 'memshed core, no source (loaded and started)'],
  ['cgroup-v1', 'cgroup-v1 (vmpressure eventfds, own cgroup)'],
  ['system-container', 'system, container only (usage-threshold eventfds)'],
  ['system', 'system, defaults (container eventfds + host /proc/meminfo every 1 s)'],
  ['psi', 'psi (PSI triggers, poll(2) on fds)'],
  ['vmstat', 'vmstat (reads every 250 ms)'],
  ['v8', 'v8 (GC observer + heap statistics)'],
  ['under-pressure', '@fastify/under-pressure, all checks (for scale)'],
];

/** CPU ns and context switches of every thread of `pid`, and the main thread's. */
function sample(pid) {
  let cpuNs = 0;
  let switches = 0;
  let mainSwitches = 0;
  let threads = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const dir = `/proc/${pid}/task/${tid}`;
      cpuNs += Number(fs.readFileSync(`${dir}/schedstat`, 'utf8').split(' ')[0]);
      const status = fs.readFileSync(`${dir}/status`, 'utf8');
      const n =
        support.statusField(status, 'voluntary_ctxt_switches') +
        support.statusField(status, 'nonvoluntary_ctxt_switches');
      switches += n;
      if (Number(tid) === pid) mainSwitches = n;
      threads++;
    } catch {
      // A thread that ended between readdir and read.
    }
  }
  return { cpuNs, switches, mainSwitches, threads };
}

async function startChild(name) {
  // Each in its own 512M memory cgroup, as in a container: the cgroup-v1 and system sources then
  // watch a cgroup with a limit, and no variant sees another's memory.
  const cgroup = await support.createTestCgroup({
    name: `bench-idle-${name}`,
    limitBytes: 512 * support.MiB,
  });
  const child = cgroup.spawn(process.execPath, [path.join(__dirname, 'support/idle-child.js'), name], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (data) => (stderr += data));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`idle child ${name} exited (${code}): ${stderr.trim()}`)));
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const unavailable = support.testCgroupsUnavailableReason();
  if (unavailable) {
    console.error(`idle: skipped: ${unavailable}`);
    return;
  }
  console.log(
    `Machine: ${support.machine()}; ${SECONDS} s per variant after ${SETTLE_SECONDS} s of settling, all variants at once\n`,
  );
  const children = [];
  try {
    for (const [name] of VARIANTS) children.push(await startChild(name));
    await sleep(SETTLE_SECONDS * 1000);
    const before = children.map((child) => sample(child.pid));
    await sleep(SECONDS * 1000);
    const after = children.map((child) => sample(child.pid));
    console.log(
      '| process | CPU time | CPU % | wakeups/s (all threads) | wakeups/s (main thread) | threads |',
    );
    console.log('|---|---|---|---|---|---|');
    VARIANTS.forEach(([, label], i) => {
      const cpuMs = (after[i].cpuNs - before[i].cpuNs) / 1e6;
      const all = (after[i].switches - before[i].switches) / SECONDS;
      const main = (after[i].mainSwitches - before[i].mainSwitches) / SECONDS;
      console.log(
        `| ${label} | ${cpuMs.toFixed(1)} ms | ${((cpuMs / (SECONDS * 1000)) * 100).toFixed(3)}% | ` +
          `${all.toFixed(2)} | ${main.toFixed(2)} | ${after[i].threads} |`,
      );
    });
  } finally {
    for (const child of children) {
      child.kill('SIGKILL');
      await support.exited(child);
    }
    await support.removeAllTestCgroups();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
