#!/usr/bin/env node
// The engine's accounting against the kernel's own arithmetic, side by side in one run:
// `npm run bench -- engine-vs-c` (builds first; `--ops N --repeat N --rounds N --warmup N --seed N`).
//
// Three implementations run the same deterministic workload: memshed's engine (`node.account()`
// and `node.accountPriority()` on a ManualScheduler, listeners subscribed through `listen()`), a
// C transcription of mm/vmpressure.c compiled with -O2 (support/vmpressure.c), and a naive
// JavaScript class transcription of the same C. The workload is a pseudo-random sequence of
// (scanned, reclaimed) pairs over the eight nodes of a tree, mostly tree = true, some tree = false
// (socket pressure) and some reclaim priorities, with a reclaim efficiency per node that drifts, so
// that windows of every level are crossed and work functions run; every `tick` operations the
// pending work runs and the clock moves one millisecond.
//
// Fidelity: the events per registration and level, and the socket-pressure samples, must be equal
// in the three; the run fails otherwise. Performance: the engine's throughput as a ratio of C's
// (C ns per operation / engine ns per operation); the target is TARGET_RATIO, and the run fails
// below it. CPU time, best of `rounds` interleaved rounds after `warmup` untimed JavaScript rounds,
// on a machine that may be shared: compare ratios, not times. Without a C compiler it says so and
// skips.
'use strict';

const os = require('node:os');
const { createEngine } = require('@memshed/core');
const { ManualScheduler } = require('@memshed/core/testing');
const {
  WORKLOAD,
  buildVmpressureC,
  findCompiler,
  generateWorkload,
  runVmpressureC,
} = require('./support/vmpressure-c');

const TARGET_RATIO = 0.3;
const LEVELS = ['low', 'medium', 'critical'];
const MODES = ['default', 'hierarchy', 'local'];

/** `--name N` from the command line, or `fallback`. */
function numberArgument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return fallback;
  const value = Number(process.argv[index + 1]);
  if (!Number.isSafeInteger(value) || value < 1) {
    console.error(`--${name} needs a positive integer, got '${process.argv[index + 1]}'`);
    process.exit(2);
  }
  return value;
}

const spec = {
  ...WORKLOAD,
  seed: numberArgument('seed', WORKLOAD.seed),
  ops: Math.ceil(numberArgument('ops', 1 << 20) / WORKLOAD.tick) * WORKLOAD.tick,
  repeat: numberArgument('repeat', 2),
  rounds: numberArgument('rounds', 7),
  warmup: numberArgument('warmup', 3),
};

/**
 * One timed run of `run()`: CPU nanoseconds per operation and what `run()` returned. CPU time, not
 * wall time: on a shared machine the time other processes get does not count (the C side reads
 * CLOCK_PROCESS_CPUTIME_ID).
 */
function timed(run) {
  const start = process.cpuUsage();
  const result = run();
  const { user, system } = process.cpuUsage(start);
  return { nsPerOp: ((user + system) * 1000) / (spec.ops * spec.repeat), ...result };
}

/** memshed's engine, as a source and listeners use it: one timed run. */
function runEngine(input) {
  return timed(() => {
    const scheduler = new ManualScheduler();
    const engine = createEngine({ scheduler });
    const nodes = spec.paths.map((path) => engine.node(path, 'bench'));
    const counts = spec.registrations.map(() => [0, 0, 0]);
    const subscriptions = spec.registrations.map((registration, index) =>
      nodes[registration.node]
        .listen(LEVELS[registration.level], MODES[registration.mode])
        .subscribe((event) => counts[index][event.level === 'low' ? 0 : event.level === 'medium' ? 1 : 2]++),
    );
    let socket = 0;
    const { node, kind, scanned, reclaimed } = input;
    let countdown = spec.tick;
    for (let r = 0; r < spec.repeat; r++) {
      for (let i = 0; i < spec.ops; i++) {
        const target = nodes[node[i]];
        const k = kind[i];
        if (k === 2) target.accountPriority(scanned[i]);
        else target.account(scanned[i], reclaimed[i], k === 1);
        if (--countdown === 0) {
          countdown = spec.tick;
          scheduler.advanceBy(1);
          for (let n = 0; n < nodes.length; n++) if (nodes[n].socketPressure()) socket++;
        }
      }
    }
    scheduler.flush();
    for (const subscription of subscriptions) subscription.unsubscribe();
    engine.dispose();
    return { socket, counts };
  });
}

/** A direct JavaScript transcription of support/vmpressure.c: the naive port. */
class Vmpressure {
  constructor(parent) {
    this.scanned = 0;
    this.reclaimed = 0;
    this.treeScanned = 0;
    this.treeReclaimed = 0;
    this.events = [];
    this.workPending = false;
    this.parent = parent;
    this.socketPressure = 0;
  }
}

function naiveCalcLevel(scanned, reclaimed) {
  const scale = scanned + reclaimed;
  let pressure = 0;
  if (reclaimed < scanned) {
    pressure = scale - Math.floor((reclaimed * scale) / scanned);
    pressure = Math.floor((pressure * 100) / scale);
  }
  return pressure >= 95 ? 2 : pressure >= 60 ? 1 : 0;
}

/** The naive transcription: one timed run. */
function runNaive(input) {
  return timed(() => {
    const nodes = [];
    for (const parent of spec.parents) nodes.push(new Vmpressure(parent < 0 ? null : nodes[parent]));
    const counts = spec.registrations.map(() => [0, 0, 0]);
    spec.registrations.forEach((registration, index) =>
      nodes[registration.node].events.push({
        level: registration.level,
        mode: registration.mode,
        efd: counts[index],
      }),
    );
    const queue = [];
    let jiffies = 1;
    const event = (vmpr, level, ancestor, signalled) => {
      let ret = false;
      for (const ev of vmpr.events) {
        if (ancestor && ev.mode === 2) continue;
        if (signalled && ev.mode === 0) continue;
        if (level < ev.level) continue;
        ev.efd[level]++;
        ret = true;
      }
      return ret;
    };
    const workFn = (vmpr) => {
      const scanned = vmpr.treeScanned;
      if (!scanned) return;
      const reclaimed = vmpr.treeReclaimed;
      vmpr.treeScanned = 0;
      vmpr.treeReclaimed = 0;
      const level = naiveCalcLevel(scanned, reclaimed);
      let ancestor = false;
      let signalled = false;
      do {
        if (event(vmpr, level, ancestor, signalled)) signalled = true;
        ancestor = true;
      } while ((vmpr = vmpr.parent));
    };
    const runQueue = () => {
      for (const vmpr of queue) {
        vmpr.workPending = false;
        workFn(vmpr);
      }
      queue.length = 0;
    };
    const vmpressure = (vmpr, tree, scanned, reclaimed) => {
      if (!scanned) return;
      if (tree) {
        scanned = vmpr.treeScanned += scanned;
        vmpr.treeReclaimed += reclaimed;
        if (scanned < 512) return;
        if (vmpr.workPending) return;
        vmpr.workPending = true;
        queue.push(vmpr);
      } else {
        if (!vmpr.parent) return;
        scanned = vmpr.scanned += scanned;
        reclaimed = vmpr.reclaimed += reclaimed;
        if (scanned < 512) return;
        vmpr.scanned = vmpr.reclaimed = 0;
        if (naiveCalcLevel(scanned, reclaimed) > 0) vmpr.socketPressure = jiffies + 1000;
      }
    };
    let socket = 0;
    const { node, kind, scanned, reclaimed } = input;
    let countdown = spec.tick;
    for (let r = 0; r < spec.repeat; r++) {
      for (let i = 0; i < spec.ops; i++) {
        const vmpr = nodes[node[i]];
        const k = kind[i];
        if (k === 2) {
          if (scanned[i] <= 3) vmpressure(vmpr, true, 512, 0);
        } else vmpressure(vmpr, k === 1, scanned[i], reclaimed[i]);
        if (--countdown === 0) {
          countdown = spec.tick;
          runQueue();
          jiffies++;
          for (let n = 0; n < nodes.length; n++) if (jiffies < nodes[n].socketPressure) socket++;
        }
      }
    }
    runQueue();
    return { socket, counts };
  });
}

/** The run with the fewest nanoseconds per operation; every run must have given the same events. */
function best(runs, name) {
  const outcome = (run) => JSON.stringify({ socket: run.socket, counts: run.counts });
  if (runs.some((run) => outcome(run) !== outcome(runs[0]))) {
    throw new Error(`${name}: two runs of the same workload gave different events`);
  }
  return runs.reduce((a, b) => (b.nsPerOp < a.nsPerOp ? b : a));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function main() {
  if (!findCompiler()) {
    console.log(
      'SKIPPED: no C compiler (tried $CC, cc, gcc, clang): install gcc or set CC to compare the engine with C.',
    );
    return;
  }
  const { binary, compiler } = buildVmpressureC();
  const input = generateWorkload(spec);
  // Rounds interleave the three, so that load from elsewhere on a shared machine falls on all of
  // them alike; the first JavaScript round of each also warms it up.
  // Untimed rounds first: V8 needs a few to settle its optimised code, C does not.
  for (let round = 0; round < spec.warmup; round++) {
    runEngine(input);
    runNaive(input);
  }
  const runs = { c: [], engine: [], naive: [] };
  for (let round = 0; round < spec.rounds; round++) {
    runs.c.push(runVmpressureC(binary, { ...spec, rounds: 1 }));
    runs.engine.push(runEngine(input));
    runs.naive.push(runNaive(input));
  }
  const c = best(runs.c, 'C');
  const engine = best(runs.engine, 'engine');
  const naive = best(runs.naive, 'naive JS');
  const roundRatios = runs.c.map((run, round) => run.nsPerOp / runs.engine[round].nsPerOp);

  const expected = JSON.stringify({ socket: c.socket, counts: c.counts });
  const mismatches = [
    ['engine', engine],
    ['naive JS', naive],
  ].filter(([, result]) => JSON.stringify({ socket: result.socket, counts: result.counts }) !== expected);

  const total = (result) => result.counts.flat().reduce((sum, count) => sum + count, 0);
  const perLevel = (result) =>
    LEVELS.map((_, level) => result.counts.reduce((sum, counts) => sum + counts[level], 0)).join(' / ');
  const ratio = c.nsPerOp / engine.nsPerOp;
  const operations = spec.ops * spec.repeat;
  console.log(
    `Engine vs C: node ${process.version}, ${compiler}, ${os.cpus()[0].model}, ` +
      `load ${os.loadavg()[0].toFixed(2)}, ${new Date().toISOString().slice(0, 16)}Z`,
  );
  console.log(
    `${operations.toLocaleString('en-US')} operations over ${spec.paths.length} nodes, ` +
      `${spec.registrations.length} listeners, a tick every ${spec.tick}, seed ${spec.seed}, best of ${spec.rounds} after ${spec.warmup} warm-up rounds`,
  );
  console.log('');
  console.log(
    '| implementation | CPU ns/operation | M operations/CPU s | x of C | events low / medium / critical | socket samples |',
  );
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const [name, result] of [
    ['C -O2 (mm/vmpressure.c)', c],
    ['memshed engine', engine],
    ['naive JS class', naive],
  ]) {
    console.log(
      `| ${name} | ${result.nsPerOp.toFixed(2)} | ${(1e3 / result.nsPerOp).toFixed(1)} | ` +
        `${(c.nsPerOp / result.nsPerOp).toFixed(2)}x | ${perLevel(result)} (${total(result)}) | ${result.socket} |`,
    );
  }
  console.log('');
  console.log(
    `Engine/C per round: ${roundRatios.map((r) => r.toFixed(2)).join(', ')} (median ${median(roundRatios).toFixed(2)}x).`,
  );
  if (mismatches.length) {
    console.log(
      `FAIL: events differ from the C transcription: ${mismatches.map(([name]) => name).join(', ')}`,
    );
    console.log(`C: ${expected}`);
    for (const [name, result] of mismatches) console.log(`${name}: ${JSON.stringify(result)}`);
    process.exitCode = 1;
  } else {
    console.log('Events per listener and level, and socket-pressure samples: equal in all three.');
  }
  if (ratio < TARGET_RATIO) {
    console.log(
      `FAIL: engine at ${ratio.toFixed(2)}x of C, target >= ${TARGET_RATIO}x (a loaded machine lowers it: re-run idle)`,
    );
    process.exitCode = 1;
  } else {
    console.log(`Engine at ${ratio.toFixed(2)}x of C: target >= ${TARGET_RATIO}x met.`);
  }
}

// Loaded by a profiler script (`node --cpu-prof`, `perf stat`), the runs are at hand without the table.
if (require.main === module) main();
else module.exports = { spec, runEngine, runNaive };
