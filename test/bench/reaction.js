#!/usr/bin/env node
// Reaction time: from the onset of memory pressure to each source's first event, all
// sources side by side in one run, on one real child memory cgroup (cgroup v1).
//
// The workload (test/kernel/support/workload.js) starts inside a fresh cgroup (default 256M) and
// grows an anonymous allocation 2 MiB every 10 ms to --hold MiB (default 200, on top of node's
// own ~40 MiB), then reads a 512 MiB file evicted from the page cache in a loop: usage climbs
// through the headroom thresholds, then reclaim starts and fails more and more (page cache churn
// against a nearly full cgroup), which the kernel reports as vmpressure and PSI stalls.
//
// Listeners, all in this process and started before the workload:
// - kernel: a raw eventfd per level on the cgroup's memory.pressure_level (@memshed/native's
//   watchEventfd, nothing else: a C listener); its first wakeup is "the kernel's
//   first event", the reference the other rows are compared with;
// - cgroup-v1: @memshed/source-cgroup-v1 on the same cgroup (its own eventfds), through memshed;
// - system: @memshed/source-system, container headroom (usage-threshold eventfds, 75%/85%);
// - vmstat: @memshed/source-vmstat on /proc/vmstat (250 ms interval, the default);
// - psi: @memshed/source-psi, /proc/pressure/memory triggers (2 s windows, the defaults);
// - poll: what @fastify/under-pressure does, RSS of the process every 1 s against 80% of the limit.
// "Onset" is the workload's start; the table gives each first event after it, and relative to the
// kernel's first vmpressure event (negative: earlier than the kernel).
//
// Run: `npm run bench -- reaction` (builds first), or after `npx tsc -b`:
// `node test/bench/reaction.js [--runs N] [--limit MiB] [--hold MiB] [--duration ms]`. Needs root
// on a cgroup v1 memory controller, the native addon built, and PSI.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createMemshed } = require('@memshed/core');
const { nativeAvailability, watchEventfd } = require('@memshed/native');
const { CgroupV1Source, cgroupV1OptionsSchema } = require('@memshed/source-cgroup-v1');
const { SystemSource, systemSourceOptionsSchema } = require('@memshed/source-system');
const { VmstatSource, vmstatSourceOptionsSchema } = require('@memshed/source-vmstat');
const { PsiSource, psiSourceOptionsSchema } = require('@memshed/source-psi');
const support = require('./support/kernel-support');

const { MiB } = support;
const RUNS = Number(support.argument('--runs', 1));
const LIMIT_MIB = Number(support.argument('--limit', 256));
const HOLD_MIB = Number(support.argument('--hold', 200));
const DURATION_MS = Number(support.argument('--duration', 8000));
const LEVELS = ['low', 'medium', 'critical'];
const RANK = { low: 0, medium: 1, critical: 2 };

/** A raw eventfd on memory.pressure_level at `level`: the kernel's own notification, nothing else. */
function rawListener(cgroup, level, record) {
  const watcher = watchEventfd(() => record(level));
  const pressureFd = fs.openSync(path.join(cgroup.path, 'memory.pressure_level'), 'r');
  try {
    fs.writeFileSync(path.join(cgroup.path, 'cgroup.event_control'), `${watcher.fd} ${pressureFd} ${level}`);
  } finally {
    fs.closeSync(pressureFd);
  }
  return watcher;
}

function sources(cgroup) {
  return {
    'cgroup-v1': new CgroupV1Source(cgroupV1OptionsSchema.parse({ cgroup: cgroup.relativePath })),
    system: new SystemSource(
      systemSourceOptionsSchema.parse({ host: false, container: { cgroup: cgroup.relativePath } }),
    ),
    vmstat: new VmstatSource(vmstatSourceOptionsSchema.parse({})),
    psi: new PsiSource(psiSourceOptionsSchema.parse({})),
  };
}

const HOW = {
  kernel: 'raw eventfd on memory.pressure_level (reference)',
  'cgroup-v1': 'vmpressure eventfds, through memshed',
  system: 'usage-threshold eventfds (75%/85% working set)',
  vmstat: '/proc/vmstat pgscan/pgsteal every 250 ms',
  psi: '/proc/pressure/memory triggers, 2 s windows',
  poll: 'RSS every 1 s against 80% of the limit (under-pressure)',
};

async function runOnce(run) {
  const cgroup = await support.createTestCgroup({ name: 'bench-reaction', limitBytes: LIMIT_MIB * MiB });
  const first = {}; // name -> { any: {level, at, usage}, medium: {at} }
  const counts = {};
  let start;
  const record = (name, level) => {
    const at = performance.now();
    counts[name] = (counts[name] ?? 0) + 1;
    if (start === undefined) return; // before the workload: nothing of ours
    const entry = (first[name] ??= {});
    entry.any ??= { level, at: at - start, usage: safeUsage(cgroup) };
    if (RANK[level] >= 1) entry.medium ??= { at: at - start };
  };
  const watchers = LEVELS.map((level) => rawListener(cgroup, level, (l) => record('kernel', l)));
  const instances = [];
  let workload;
  let poll;
  try {
    for (const [name, source] of Object.entries(sources(cgroup))) {
      const availability = source.availability();
      if (!availability.available) {
        console.error(`reaction: ${name} unavailable: ${availability.reason} (${availability.hint})`);
        continue;
      }
      const memshed = await createMemshed({ sources: [source] });
      memshed.events$.subscribe((event) => record(name, event.level));
      memshed.errors$.subscribe((error) => console.error(`reaction: ${name}: ${error.message}`));
      instances.push(memshed);
    }
    // Let every source settle (PSI triggers, first vmstat sample) before the onset.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    support.prepareWorkloadFile(); // created once, outside the cgroup and outside the measured time
    start = performance.now();
    workload = await support.spawnWorkload(cgroup, {
      holdMiB: HOLD_MIB,
      stepMiB: 2,
      read: true,
      waitReady: false,
    });
    const pid = workload.pid;
    poll = setInterval(() => {
      let rss;
      try {
        rss = support.statusField(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS') * 1024;
      } catch {
        return;
      }
      if (rss >= 0.8 * LIMIT_MIB * MiB) record('poll', 'critical');
    }, 1000);
    let timer;
    const outcome = await Promise.race([
      support.exited(workload),
      new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), DURATION_MS))),
    ]);
    clearTimeout(timer);
    const oomKills = cgroup.oomControl().oomKill;
    print(run, first, counts, outcome, oomKills);
  } finally {
    clearInterval(poll);
    for (const memshed of instances) await memshed.stop();
    for (const watcher of watchers) watcher.close();
    if (workload) {
      workload.kill('SIGKILL');
      await support.exited(workload);
    }
    await cgroup.remove();
  }
}

function safeUsage(cgroup) {
  try {
    return cgroup.usage();
  } catch {
    return NaN;
  }
}

function print(run, first, counts, outcome, oomKills) {
  const kernel = first.kernel?.any?.at;
  const ms = (value) => (value === undefined ? 'never' : `${value.toFixed(1)} ms`);
  const delta = (value) =>
    value === undefined || kernel === undefined
      ? 'n/a'
      : `${value - kernel >= 0 ? '+' : ''}${(value - kernel).toFixed(1)} ms`;
  console.log(
    `\nRun ${run}: ${LIMIT_MIB}M cgroup, workload holding ${HOLD_MIB} MiB (2 MiB / 10 ms) then reading; ` +
      `${outcome ? `workload ended (${outcome.signal ?? outcome.code})` : `alive after ${DURATION_MS} ms`}, ` +
      `OOM kills ${oomKills}\n`,
  );
  console.log(
    '| source | how it learns | first event (level) | vs kernel | first medium+ | usage at first event | events |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const name of ['kernel', 'cgroup-v1', 'system', 'vmstat', 'psi', 'poll']) {
    const entry = first[name] ?? {};
    const any = entry.any;
    console.log(
      `| ${name} | ${HOW[name]} | ${any ? `${ms(any.at)} (${any.level})` : 'never'} | ${delta(any?.at)} | ` +
        `${ms(entry.medium?.at)} | ${any && Number.isFinite(any.usage) ? `${(any.usage / MiB).toFixed(0)} MiB` : '-'} | ` +
        `${counts[name] ?? 0} |`,
    );
  }
}

async function main() {
  const unavailable = support.testCgroupsUnavailableReason();
  const native = nativeAvailability();
  if (unavailable || !native.available) {
    console.error(`reaction: skipped: ${unavailable ?? native.reason}`);
    return;
  }
  console.log(`Machine: ${support.machine()}`);
  try {
    for (let run = 1; run <= RUNS; run++) await runOnce(run);
  } finally {
    await support.removeAllTestCgroups();
  }
}

main().catch(async (error) => {
  console.error(error);
  process.exitCode = 1;
  await support.removeAllTestCgroups();
});
