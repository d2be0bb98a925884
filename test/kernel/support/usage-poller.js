#!/usr/bin/env node
/**
 * Watches a memory cgroup's usage from outside it, for kernel tests that time when memory
 * actually leaves a process:
 *
 *   node usage-poller.js CGROUP_DIR
 *
 * Reads CGROUP_DIR/memory.usage_in_bytes about every 0.2 ms and records each change with the
 * CLOCK_MONOTONIC time of the read (process.hrtime.bigint(), comparable across processes on one
 * machine). Prints "ready" once polling, and the trace as one JSON line ([ns as a string, bytes][])
 * when its stdin ends.
 *
 * Why a separate process: a process cannot sample its own usage while its JavaScript thread is
 * inside a synchronous collection that is returning the memory, and a sampling thread of its own
 * would be another CPU for every munmap's TLB shootdown, slowing what it measures. This process
 * shares no memory map with the one it watches.
 */
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const file = path.join(process.argv[2], 'memory.usage_in_bytes');
const fd = fs.openSync(file, 'r');
const buffer = Buffer.alloc(32);
const pause = new Int32Array(new SharedArrayBuffer(4));
/** Bounded so that the poller never outlives a test that forgot it. */
const MAX_MS = 120_000;
const started = process.hrtime.bigint();
const trace = [];
let last = -1;
let done = false;

function read() {
  const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
  return Number(buffer.toString('latin1', 0, length));
}

/** Polls for ~20 ms at a time, then lets the event loop see stdin end. */
function poll() {
  const until = process.hrtime.bigint() + 20_000_000n;
  for (;;) {
    const now = process.hrtime.bigint();
    if (now > until) break;
    const value = read();
    if (value !== last) {
      trace.push([String(now), value]);
      last = value;
    }
    Atomics.wait(pause, 0, 0, 0.2);
  }
  if (done || process.hrtime.bigint() - started > BigInt(MAX_MS) * 1_000_000n) finish();
  else setImmediate(poll);
}

function finish() {
  fs.closeSync(fd);
  process.stdout.write(`${JSON.stringify(trace)}\n`);
  process.exit(0);
}

process.stdin.on('data', () => {});
process.stdin.on('end', () => (done = true));
process.stdout.write('ready\n');
poll();
