#!/usr/bin/env node
// cgroup-v1 storm cost: a writer process fires 10,000 kernel-style events per second for
// 10 s at the source's eventfds, evenly spaced (one every 100 µs), each event written to the low,
// medium and critical eventfds together as a critical vmpressure window does. Measures this
// process's CPU (process.cpuUsage: the watcher, the per-turn flush, the engine, one subscriber),
// the deliveries, and memory at the start, every quarter and the end, after a full GC (flat = no
// growth).
//
// Run: `npm run bench -- cgroup-v1-storm` (builds first), or after `npx tsc -b`:
// `node test/bench/cgroup-v1-storm.js [--rate N] [--seconds S] [--min-interval MS]`. Needs Linux, the addon built, and
// a cgroup v1 memory controller (it watches this process's own memory cgroup: `cgroup: self`).
'use strict';

const { spawn } = require('node:child_process');
const v8 = require('node:v8');
const vm = require('node:vm');
const { createMemshed } = require('@memshed/core');
const { CgroupV1Source, cgroupV1OptionsSchema } = require('@memshed/source-cgroup-v1');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const RATE = Number(argument('--rate') ?? 10_000);
const SECONDS = Number(argument('--seconds') ?? 10);
/** The source's minIntervalMs; default: the source's default. */
const MIN_INTERVAL_MS = argument('--min-interval');

function argument(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

// The writer: fds 3, 4, 5 are the low, medium and critical eventfds. It spins on the clock (its own
// CPU, not ours) and writes each event when due, so that wakeups are spread as evenly as possible.
const WRITER = `
  const fs = require('node:fs');
  const one = Buffer.alloc(8); one.writeBigUInt64LE(1n);
  const [rate, seconds] = process.argv.slice(1).map(Number);
  // Wait for the go byte: the parent starts measuring first, without the cost of this spawn.
  fs.readSync(0, Buffer.alloc(1), 0, 1, null);
  const start = process.hrtime.bigint();
  const period = BigInt(Math.round(1e9 / rate));
  const total = rate * seconds;
  for (let sent = 0; sent < total; ) {
    if (process.hrtime.bigint() - start >= BigInt(sent) * period) {
      fs.writeSync(3, one); fs.writeSync(4, one); fs.writeSync(5, one);
      sent++;
    }
  }
`;
/** CPU spent sampling memory (full GCs), subtracted from the measurement. */
const sampling = { user: 0, system: 0 };

function memory() {
  const before = process.cpuUsage();
  gc();
  const usage = process.memoryUsage();
  const spent = process.cpuUsage(before);
  sampling.user += spent.user;
  sampling.system += spent.system;
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external };
}

const MB = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

async function main() {
  const source = new CgroupV1Source(
    cgroupV1OptionsSchema.parse({
      cgroup: 'self',
      oom: false,
      ...(MIN_INTERVAL_MS === undefined ? {} : { minIntervalMs: Number(MIN_INTERVAL_MS) }),
    }),
  );
  const availability = source.availability();
  if (!availability.available) {
    console.error(`cgroup-v1-storm: skipped: ${availability.reason} (${availability.hint})`);
    return;
  }
  const memshed = await createMemshed({ sources: [source] });
  const fds = source.registrations().map((registration) => registration.fd);
  const delivered = { low: 0, medium: 0, critical: 0 };
  memshed.events$.subscribe((event) => delivered[event.level]++);

  /** Spawns the writer, then measures this process's CPU from the go byte until it exits. */
  async function storm(seconds) {
    const writer = spawn(process.execPath, ['-e', WRITER, String(RATE), String(seconds)], {
      stdio: ['pipe', 'inherit', 'inherit', ...fds],
    });
    await new Promise((resolve) => writer.once('spawn', resolve));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const cpuStart = process.cpuUsage();
    const wallStart = process.hrtime.bigint();
    writer.stdin.end('g');
    await new Promise((resolve) => writer.once('exit', resolve));
    // Let the last wakeups drain.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return {
      cpu: process.cpuUsage(cpuStart),
      wallSeconds: Number(process.hrtime.bigint() - wallStart) / 1e9,
    };
  }

  // Warm-up (JIT, first allocations), not measured; then the idle cost over 2 s, for reference.
  await storm(1);
  const idleStart = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const idle = process.cpuUsage(idleStart);
  const before = { ...delivered };
  const samples = [memory()];
  sampling.user = sampling.system = 0;
  // A few samples only: each is a full GC, whose CPU on GC helper threads cannot be subtracted.
  const sampler = setInterval(() => samples.push(memory()), (SECONDS * 1000) / 4);
  const run = await storm(SECONDS);
  clearInterval(sampler);
  const cpu = { user: run.cpu.user - sampling.user, system: run.cpu.system - sampling.system };
  const wallSeconds = run.wallSeconds;
  samples.push(memory());
  for (const level of Object.keys(delivered)) delivered[level] -= before[level];
  const notifications = source.registrations().map((registration) => registration.notifications);
  await memshed.stop();

  const cpuShare = (cpu.user + cpu.system) / 1e6 / wallSeconds;
  const heap = samples.map((sample) => sample.heapUsed);
  const rss = samples.map((sample) => sample.rss);
  console.log(`| metric | value |`);
  console.log(`|---|---|`);
  console.log(`| idle (no events) | ${((idle.user + idle.system) / 1e3 / 20).toFixed(2)}% of one core |`);
  console.log(`| events written (x3 eventfds) | ${RATE * SECONDS} over ${wallSeconds.toFixed(2)} s |`);
  console.log(
    `| eventfd notifications read, warm-up included (low/medium/critical) | ${notifications.join(' / ')} |`,
  );
  console.log(
    `| events delivered to the subscriber | ${delivered.critical} critical, ${delivered.medium} medium, ${delivered.low} low |`,
  );
  console.log(
    `| CPU of this process | ${(cpuShare * 100).toFixed(2)}% of one core (user ${(cpu.user / 1e3).toFixed(0)} ms, system ${(cpu.system / 1e3).toFixed(0)} ms) |`,
  );
  console.log(
    `| heapUsed after GC, first / max / last | ${MB(heap[0])} / ${MB(Math.max(...heap))} / ${MB(heap[heap.length - 1])} |`,
  );
  console.log(
    `| RSS first / max / last | ${MB(rss[0])} / ${MB(Math.max(...rss))} / ${MB(rss[rss.length - 1])} |`,
  );
  if (cpuShare >= 0.05) {
    console.error('cgroup-v1-storm: CPU is over the 5% target');
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
