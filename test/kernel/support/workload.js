#!/usr/bin/env node
/**
 * Memory workload for kernel tests, run inside a test cgroup:
 *
 *   node workload.js [--hold MiB] [--step MiB [--every ms]] [--read --file PATH] [--duration ms]
 *
 * --hold: allocate this much anonymous memory (1 MiB Buffers outside the V8 heap), touch every
 *         page so it is really charged, and hold it; with --step, grow by that many MiB every 10 ms
 *         (or every --every ms).
 * --read: then read --file in a loop, 1 MiB at a time, from start to end and around again; with a
 *         file larger than the cgroup's limit this is page-cache churn: steady reclaim of clean
 *         file pages (low pressure), and with a large --hold, failing reclaim (medium, critical).
 * Prints "ready" on stdout once the memory is held and before the first read.
 * --duration: exit 0 after this long; default: run until killed.
 */
'use strict';
const fs = require('node:fs');

const MiB = 1024 * 1024;

function parse(argv) {
  const options = { hold: 0, step: 0, every: 10, read: false, file: undefined, duration: Infinity };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--read') options.read = true;
    else if (arg === '--hold') options.hold = Number(argv[++i]);
    else if (arg === '--step') options.step = Number(argv[++i]);
    else if (arg === '--every') options.every = Number(argv[++i]);
    else if (arg === '--file') options.file = argv[++i];
    else if (arg === '--duration') options.duration = Number(argv[++i]);
    else throw new Error(`workload: unknown argument ${arg}`);
  }
  if (options.read && !options.file) throw new Error('workload: --read needs --file');
  return options;
}

const held = [];

function allocate(mib) {
  for (let i = 0; i < mib; i++) {
    // allocUnsafeSlow: its own backing store, never pooled; fill with non-zero bytes so that every
    // page is written (a zero-filled mmap would not be charged until touched).
    const buffer = Buffer.allocUnsafeSlow(MiB);
    buffer.fill(0xa5);
    held.push(buffer);
  }
}

function readLoop(file, until) {
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.allocUnsafeSlow(MiB);
  const size = fs.fstatSync(fd).size;
  let position = 0;
  let sum = 0;
  while (Date.now() < until) {
    const read = fs.readSync(fd, chunk, 0, chunk.length, position);
    sum = (sum + chunk[0]) | 0;
    position += read;
    if (read === 0 || position >= size) position = 0;
  }
  fs.closeSync(fd);
  return sum;
}

async function main() {
  const options = parse(process.argv.slice(2));
  const start = Date.now();
  const until = start + options.duration;
  if (options.step > 0) {
    while (held.length < options.hold) {
      allocate(Math.min(options.step, options.hold - held.length));
      await new Promise((resolve) => setTimeout(resolve, options.every));
    }
  } else {
    allocate(options.hold);
  }
  process.stdout.write('ready\n');
  if (options.read) readLoop(options.file, until);
  else if (Number.isFinite(options.duration))
    await new Promise((resolve) => setTimeout(resolve, until - Date.now()));
  else setInterval(() => held.length, 1 << 30);
}

main().then(
  () => {
    if (Number.isFinite(parse(process.argv.slice(2)).duration)) process.exit(0);
  },
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(2);
  },
);
