#!/usr/bin/env node
// HTTP load shedding cost (docs/integrations/http.md, "Notes"): what @memshed/http adds to a
// node:http server per request, accepting and shedding, against a plain server and a hand-written
// constant 503. Each variant is a server process (test/bench/support/http-shedding-server.js, on
// 127.0.0.1 only); autocannon loads it from this process with --connections keep-alive
// connections for --seconds, variants in turn, --rounds rounds, after a one-second warm-up each.
// Reported per variant: requests per second and the server's CPU time per request (robust to
// autocannon sharing the machine's CPUs with the server; autocannon's latencies are whole
// milliseconds, all 0-1 ms here, so they are not reported), then memshed's extra CPU per request
// paired round by round with its baseline. Every response is checked: 200 from plain and
// memshed-accepting, 503 from the other two; the benchmark fails otherwise.
//
// Run: `npm run bench -- http-shedding` (builds first), or after `npm run build`:
// `node test/bench/http-shedding.js [--seconds N] [--rounds N] [--connections N]`.
'use strict';

const { fork } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const autocannon = require('autocannon');
const { argument, machine, median } = require('./support/kernel-support');

const SECONDS = Number(argument('--seconds', 4));
const ROUNDS = Number(argument('--rounds', 5));
const CONNECTIONS = Number(argument('--connections', 10));
const SERVER = path.join(__dirname, 'support/http-shedding-server.js');

/** Variant -> the status every response must have. */
const VARIANTS = {
  plain: 200,
  'constant-503': 503,
  'memshed-accepting': 200,
  'memshed-shedding': 503,
};

async function startServer(variant) {
  const child = fork(SERVER, [variant], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const [message] = await once(child, 'message');
  return { child, port: message.port };
}

async function mark(child) {
  child.send('mark');
  const [message] = await once(child, 'message');
  return message;
}

/** One load run against a server: autocannon's results plus the server's CPU and request count. */
async function load(server, seconds) {
  const before = await mark(server.child);
  const result = await autocannon({
    url: `http://127.0.0.1:${server.port}/api/items`,
    connections: CONNECTIONS,
    duration: seconds,
  });
  const after = await mark(server.child);
  const served = after.requests - before.requests;
  return {
    result,
    served,
    rate: served / result.duration,
    cpuPerRequest: (after.cpu - before.cpu) / served,
  };
}

function checkStatuses(variant, result) {
  const expected = String(VARIANTS[variant]);
  const statuses = Object.keys(result.statusCodeStats ?? {});
  if (result.errors > 0 || statuses.some((status) => status !== expected)) {
    throw new Error(
      `${variant}: expected only ${expected}, got ${JSON.stringify(result.statusCodeStats)} and ${result.errors} errors`,
    );
  }
}

async function main() {
  const names = Object.keys(VARIANTS);
  const servers = {};
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  try {
    for (const name of names) {
      servers[name] = await startServer(name);
      checkStatuses(name, (await load(servers[name], 1)).result); // warm-up
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const name of names) {
        const sample = await load(servers[name], SECONDS);
        checkStatuses(name, sample.result);
        samples[name].push(sample);
        console.error(
          `round ${round}/${ROUNDS} ${name}: ${Math.round(sample.rate)} requests/s, ${sample.cpuPerRequest.toFixed(1)} µs CPU each`,
        );
      }
    }
  } finally {
    for (const server of Object.values(servers)) server.child.disconnect();
  }

  const rows = Object.fromEntries(
    names.map((name) => {
      const cpu = samples[name].map((sample) => sample.cpuPerRequest);
      return [
        name,
        {
          rate: median(samples[name].map((sample) => sample.rate)),
          cpu: median(cpu),
          low: Math.min(...cpu),
          high: Math.max(...cpu),
        },
      ];
    }),
  );
  // Each round's memshed run minus the run of its baseline in the same round (adjacent in time).
  const paired = (name, baseline) =>
    samples[name].map((sample, round) => sample.cpuPerRequest - samples[baseline][round].cpuPerRequest);
  const describe = (differences) =>
    `median ${fmt(median(differences))} µs (rounds: ${differences.map(fmt).join(', ')})`;

  console.log(`Machine: ${machine()}; ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds`);
  console.log('');
  console.log(
    '| server (127.0.0.1) | status | requests/s (median) | server CPU per request: median (range) |',
  );
  console.log('|---|---|---|---|');
  for (const name of names) {
    const r = rows[name];
    console.log(
      `| ${name} | ${VARIANTS[name]} | ${Math.round(r.rate)} | ${r.cpu.toFixed(1)} µs (${r.low.toFixed(1)}-${r.high.toFixed(1)}) |`,
    );
  }
  console.log('');
  console.log(
    `memshed accepting minus plain, server CPU per request: ${describe(paired('memshed-accepting', 'plain'))}`,
  );
  console.log(
    `memshed shedding minus the constant 503, server CPU per request: ${describe(paired('memshed-shedding', 'constant-503'))}`,
  );
}

function fmt(value) {
  return `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
