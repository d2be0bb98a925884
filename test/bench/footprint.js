#!/usr/bin/env node
// Footprint (issue 10): RSS and start-up time of a process running memshed core + one source
// (cgroup-v1) + one action (gc), against a bare node process. Target: under 10 MB and 150 ms extra.
//
// Each sample is a fresh process (test/bench/support/footprint-child.js), alternating bare and
// memshed; start-up time is measured from spawn to the child's line on stdout (node's own boot
// included in both, so the difference is memshed's: require of the built packages, container,
// source start with its eventfds, action creation); RSS is process.memoryUsage().rss at that line.
// Medians of --runs samples each (default 15).
//
// Run: `npm run bench -- footprint` (builds first), or after `npx tsc -b`:
// `node test/bench/footprint.js [--runs N]`.
'use strict';

const { spawn } = require('node:child_process');
const path = require('node:path');
const support = require('./support/kernel-support');

const RUNS = Number(support.argument('--runs', 15));
const CHILD = path.join(__dirname, 'support/footprint-child.js');

function sampleOnce(variant) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [CHILD, variant], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let readyAt;
  child.stdout.on('data', (data) => {
    readyAt ??= process.hrtime.bigint();
    stdout += data;
  });
  child.stderr.on('data', (data) => (stderr += data));
  return new Promise((resolve, reject) => {
    child.once('close', (code) => {
      if (code !== 0 || readyAt === undefined) {
        reject(new Error(`footprint child ${variant} failed (${code}): ${stderr.trim()}`));
        return;
      }
      const { rss } = JSON.parse(stdout);
      resolve({ ms: Number(readyAt - started) / 1e6, rss });
    });
  });
}

const BREAKDOWN = [
  'rxjs',
  'inversify',
  'zod',
  '@memshed/core',
  '@memshed/source-cgroup-v1',
  '@memshed/action-gc',
];

/** Time and RSS that `require(request)` adds inside a fresh node process. */
function requireCost(request) {
  const script =
    'const r=process.memoryUsage().rss,t=process.hrtime.bigint();require(process.argv[1]);' +
    'console.log(JSON.stringify({ms:Number(process.hrtime.bigint()-t)/1e6,rss:process.memoryUsage().rss-r}))';
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script, request], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (data) => (stdout += data));
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`require ${request}: ${code}`)),
    );
  });
}

async function main() {
  console.log(`Machine: ${support.machine()}; ${RUNS} processes per variant, alternating\n`);
  const samples = { bare: [], memshed: [] };
  await sampleOnce('memshed'); // warm the file cache for both
  await sampleOnce('bare');
  for (let i = 0; i < RUNS; i++) {
    for (const variant of ['bare', 'memshed']) samples[variant].push(await sampleOnce(variant));
  }
  const med = (variant, key) => support.median(samples[variant].map((sample) => sample[key]));
  const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
  console.log('| process | start-up (median) | RSS (median) |');
  console.log('|---|---|---|');
  console.log(`| bare node | ${med('bare', 'ms').toFixed(1)} ms | ${mb(med('bare', 'rss'))} |`);
  console.log(
    `| memshed core + cgroup-v1 + gc | ${med('memshed', 'ms').toFixed(1)} ms | ${mb(med('memshed', 'rss'))} |`,
  );
  const extraMs = med('memshed', 'ms') - med('bare', 'ms');
  const extraRss = med('memshed', 'rss') - med('bare', 'rss');
  console.log(
    `| **extra** (target < 150 ms, < 10 MB) | **${extraMs.toFixed(1)} ms** | **${mb(extraRss)}** |`,
  );
  // Where it goes: each dependency required alone in a fresh process (what it adds over bare node).
  console.log('\n| required alone in a fresh node | require time (median) | RSS added (median) |');
  console.log('|---|---|---|');
  for (const request of BREAKDOWN) {
    const alone = [];
    for (let i = 0; i < Math.min(RUNS, 7); i++) alone.push(await requireCost(request));
    console.log(
      `| ${request} | ${support.median(alone.map((cost) => cost.ms)).toFixed(1)} ms | ` +
        `${mb(support.median(alone.map((cost) => cost.rss)))} |`,
    );
  }
  if (extraMs >= 150 || extraRss >= 10e6) {
    console.error('footprint: over the target');
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
