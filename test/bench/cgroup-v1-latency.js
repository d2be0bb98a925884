#!/usr/bin/env node
// cgroup-v1 delivery latency: from an eventfd write in another process to the RxJS
// subscriber of memshed's events$, through the real path: the kernel eventfd registered on
// cgroup.event_control, the native libuv watcher, the source's per-turn flush, the engine's
// work function and the monitor. p50/p99 over 10,000 events, one writer process, ping-pong: the
// writer waits for each event to arrive (then --gap ms, default 0) before the next write, so that
// each event is measured alone. The source runs with --min-interval (default 0): with the default
// config (20 ms) an event that follows the previous delivery within 20 ms is a storm and is held
// by design (see cgroup-v1-storm), while the first event after a quiet period takes exactly the
// path measured here. `--min-interval 20 --gap 21 --events 1000` measures that case directly.
//
// Run: `npm run bench -- cgroup-v1-latency` (builds first), or after `npx tsc -b`:
// `node test/bench/cgroup-v1-latency.js [--events N]`. Needs Linux, the addon built, and a cgroup
// v1 memory controller (it watches this process's own memory cgroup: `cgroup: self`).
'use strict';

const { spawn } = require('node:child_process');
const { createMemshed } = require('@memshed/core');
const { CgroupV1Source, cgroupV1OptionsSchema } = require('@memshed/source-cgroup-v1');

const EVENTS = Number(argument('--events') ?? 10_000);
const GAP_MS = Number(argument('--gap') ?? 0);
const MIN_INTERVAL_MS = Number(argument('--min-interval') ?? 0);
const WARMUP = Math.min(500, EVENTS / 10);

function argument(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

// The writer: fd 3 is the eventfd (dup'd by spawn). For each byte on stdin it waits the gap, takes
// the time and writes 1 to the eventfd; at the end it prints every write time (CLOCK_MONOTONIC ns,
// the clock of process.hrtime in every process).
const WRITER = `
  const fs = require('node:fs');
  const gapMs = Number(process.argv[1]);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const one = Buffer.alloc(8); one.writeBigUInt64LE(1n);
  const ack = Buffer.alloc(1);
  const times = [];
  for (;;) {
    const n = fs.readSync(0, ack, 0, 1, null);
    if (n === 0 || ack[0] === 0x71) break;
    if (gapMs > 0) Atomics.wait(sleeper, 0, 0, gapMs);
    times.push(process.hrtime.bigint());
    fs.writeSync(3, one);
  }
  fs.writeSync(1, JSON.stringify(times.map(String)));
`;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  const source = new CgroupV1Source(
    cgroupV1OptionsSchema.parse({
      cgroup: 'self',
      levels: ['low'],
      oom: false,
      minIntervalMs: MIN_INTERVAL_MS,
    }),
  );
  const availability = source.availability();
  if (!availability.available) {
    console.error(`cgroup-v1-latency: skipped: ${availability.reason} (${availability.hint})`);
    return;
  }
  const memshed = await createMemshed({ sources: [source] });
  const [registration] = source.registrations();
  const writer = spawn(process.execPath, ['-e', WRITER, String(GAP_MS)], {
    stdio: ['pipe', 'pipe', 'inherit', registration.fd],
  });
  let output = '';
  writer.stdout.on('data', (data) => (output += data));
  const total = WARMUP + EVENTS;
  const received = [];
  const go = Buffer.from('g');
  await new Promise((resolve) => {
    memshed.events$.subscribe(() => {
      received.push(process.hrtime.bigint());
      if (received.length === total) resolve();
      else writer.stdin.write(go);
    });
    writer.stdin.write(go);
  });
  writer.stdin.end(Buffer.from('q'));
  await new Promise((resolve) => writer.once('close', resolve));
  const written = JSON.parse(output).map(BigInt);
  const latencies = [];
  for (let i = WARMUP; i < total; i++) latencies.push(Number(received[i] - written[i]) / 1000);
  latencies.sort((a, b) => a - b);
  const kernel = source.registrations()[0].notifications;
  await memshed.stop();
  const us = (value) => `${value.toFixed(1)} µs`;
  console.log(`| metric | value |`);
  console.log(`|---|---|`);
  console.log(
    `| events measured (after ${WARMUP} warm-up) | ${EVENTS} (gap ${GAP_MS} ms, minIntervalMs ${MIN_INTERVAL_MS}) |`,
  );
  console.log(`| eventfd notifications read / events delivered | ${kernel} / ${received.length} |`);
  console.log(`| latency p50 | ${us(percentile(latencies, 50))} |`);
  console.log(`| latency p90 | ${us(percentile(latencies, 90))} |`);
  console.log(`| latency p99 | ${us(percentile(latencies, 99))} |`);
  console.log(`| latency max | ${us(latencies[latencies.length - 1])} |`);
  if (percentile(latencies, 99) >= 1000) {
    console.error('cgroup-v1-latency: p99 is over the 1 ms target');
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
