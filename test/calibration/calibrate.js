#!/usr/bin/env node
// Calibration of vmscan-sim against the real kernel. Runs each calibration workload
// (CALIBRATION_WORKLOADS in packages/source-vmscan-sim/src/calibration.ts) in a real memory cgroup
// beneath this process's own, with eventfd listeners at low, medium and critical (the native addon)
// and one on memory.oom_control; records per second the events per level, memory.stat, the
// system-wide pgscan/pgsteal of /proc/vmstat and the usage; then runs the same workload's scenario
// in the model and prints both side by side, with the error of each figure.
//
//   npm run calibrate -- [--runs N] [--workload NAME]... [--write] [--simulate-only] [--seconds S]
//                        [--fixture FILE] [--sensitivity]
//
// --runs N          runs per workload (default 3); the figures are medians over the runs.
// --workload NAME   only this workload (repeatable); default all of them.
// --write           write the kernel's medians to the fixture (test/calibration/kernel-medians.json,
//                   the one the unit test holds the model to) and the table to stdout as markdown.
// --simulate-only   no kernel: compare the model with the committed fixture (for model work).
// --fixture FILE    the fixture to compare with or write (default test/calibration/kernel-medians.json),
//                   e.g. test/calibration/kernel-medians-loaded.json (recorded on a loaded machine).
// --sensitivity     with --simulate-only: each calibrated constant alone at -10%, its value and +10%,
//                   and the model's figures of the workloads (default stream-squeeze), as markdown.
// --seconds S       per-second detail of each run on stderr (default off: S = 0).
// --json            print { medians, rows } as JSON instead of the table (the kernel test reads it).
//
// Needs Linux, root, a cgroup v1 memory controller, the native addon and a C compiler. Run it on a
// machine that is otherwise quiet: /proc/vmstat counts every group's reclaim, and vmpressure event
// rates depend on how much CPU the reclaiming task and the work items get (the load average is
// recorded with the results). Everything it creates (groups, the files under the temp dir, the
// compiled workload) is removed in `finally`, and by the cgroup helper's exit hook on a crash.
'use strict';

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { registerCgroupEvent } = require('@memshed/cgroupfs');
const { nativeAvailability, watchEventfd } = require('@memshed/native');
const sim = require('@memshed/source-vmscan-sim');
const {
  createTestCgroup,
  exited,
  removeAllTestCgroups,
  testCgroupsUnavailableReason,
  evictFromPageCache,
} = require('../bench/support/kernel-support.js');

const DEFAULT_FIXTURE = path.join(__dirname, 'kernel-medians.json');
const MiB = 1024 * 1024;

function parseArguments(argv) {
  const options = {
    runs: 3,
    workloads: [],
    write: false,
    simulateOnly: false,
    detail: false,
    json: false,
    fixture: DEFAULT_FIXTURE,
    sensitivity: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--runs') options.runs = Number(argv[++i]);
    else if (arg === '--workload') options.workloads.push(argv[++i]);
    else if (arg === '--write') options.write = true;
    else if (arg === '--simulate-only') options.simulateOnly = true;
    else if (arg === '--json') options.json = true;
    else if (arg === '--seconds') options.detail = Number(argv[++i]) > 0;
    else if (arg === '--fixture') options.fixture = path.resolve(argv[++i] ?? '');
    else if (arg === '--sensitivity') options.sensitivity = true;
    else
      throw new Error(`calibrate: unknown argument '${arg}'. Fix: see the usage at the top of ${__filename}`);
  }
  if (!(options.runs >= 1)) throw new Error('calibrate: --runs needs a positive number');
  if (options.sensitivity && !options.simulateOnly)
    throw new Error('calibrate: --sensitivity is model work. Fix: add --simulate-only');
  const names = sim.CALIBRATION_WORKLOADS.map((w) => w.name);
  for (const name of options.workloads) {
    if (!names.includes(name))
      throw new Error(`calibrate: no workload '${name}'. Fix: use one of ${names.join(', ')}`);
  }
  return options;
}

function progress(message) {
  process.stderr.write(`${message}\n`);
}

/** Compiles workload.c into `dir` (-O2); returns the binary's path. */
function compileWorkload(dir) {
  const binary = path.join(dir, 'workload');
  execFileSync('cc', ['-O2', '-o', binary, path.join(__dirname, 'workload.c')], { stdio: 'inherit' });
  return binary;
}

/** Writes a file of `mib` MiB of non-zero bytes (a zero file could stay sparse). */
function writeFile(file, mib) {
  const fd = fs.openSync(file, 'w');
  try {
    const chunk = Buffer.alloc(4 * MiB);
    for (let i = 0; i < chunk.length; i += 4) chunk.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let written = 0; written < mib * MiB; written += chunk.length) fs.writeSync(fd, chunk);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** memory.stat as numbers. */
function memoryStat(dir) {
  const stat = {};
  for (const line of fs.readFileSync(path.join(dir, 'memory.stat'), 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (key) stat[key] = Number(value);
  }
  return stat;
}

/** The reclaim counters of /proc/vmstat (system-wide; memcg reclaim moves them on this kernel). */
function vmstat() {
  const wanted = [
    'pgscan_file',
    'pgscan_anon',
    'pgsteal_file',
    'pgsteal_anon',
    'workingset_refault_file',
    'oom_kill',
  ];
  const values = {};
  for (const line of fs.readFileSync('/proc/vmstat', 'utf8').split('\n')) {
    const [key, value] = line.split(' ');
    if (wanted.includes(key)) values[key] = Number(value);
  }
  return values;
}

/** One run of one workload on the kernel. */
async function runOnKernel(workload, binary, files, detail) {
  for (const file of Object.values(files)) evictFromPageCache(file);
  const cgroup = await createTestCgroup({
    name: `calib-${workload.name}`,
    limitBytes: workload.limitMiB * MiB,
  });
  const counts = { low: 0, medium: 0, critical: 0 };
  const watchers = [];
  let start = 0;
  let firstMediumMs = null;
  let oomMs = null;
  let child;
  try {
    for (const level of ['low', 'medium', 'critical']) {
      watchers.push(
        registerCgroupEvent(
          cgroup.path,
          { kind: 'pressure', level, mode: 'default' },
          watchEventfd,
          (count) => {
            counts[level] += count;
            if (level === 'medium' && firstMediumMs === null) firstMediumMs = performance.now() - start;
          },
        ),
      );
    }
    watchers.push(
      registerCgroupEvent(cgroup.path, { kind: 'oom' }, watchEventfd, () => {
        if (oomMs === null) oomMs = performance.now() - start;
      }),
    );
    const args = ['--hold', String(workload.holdMiB), '--duration', String(workload.durationMs)];
    if (workload.growMiBPerSecond) args.push('--grow', String(workload.growMiBPerSecond));
    if (workload.fileMiB) args.push('--file', files.main);
    if (workload.readMiBPerSecond) args.push('--rate', String(workload.readMiBPerSecond));
    if (workload.hotMiB) args.push('--hot', files.hot, '--hot-share', String(workload.hotShare));
    start = performance.now();
    child = cgroup.spawn(binary, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let readBytes = 0;
    let readAt = 0;
    let buffered = '';
    child.stdout.on('data', (data) => {
      buffered += data.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) {
        // The figures count from "ready": the anonymous memory is held and the reads begin, which is
        // the model's time 0 (its heap is charged at once). Spawning under load can take long.
        if (line === 'ready') start = performance.now();
        const match = /^t (\d+) read (\d+)/.exec(line);
        if (match) [readAt, readBytes] = [Number(match[1]), Number(match[2])];
      }
    });
    const done = exited(child);
    const seconds = [];
    let previous = { ...counts, vmstat: vmstat() };
    let finished = false;
    done.then(() => (finished = true));
    for (let second = 1; second * 1000 <= workload.durationMs && !finished; second++) {
      // One sample a second: a timer, not a sleep of the harness (the listeners run meanwhile).
      await Promise.race([
        new Promise((resolve) => setTimeout(resolve, start + second * 1000 - performance.now())),
        done,
      ]);
      if (finished) break;
      const now = { ...counts, vmstat: vmstat() };
      const stat = memoryStat(cgroup.path);
      const sample = {
        second,
        low: now.low - previous.low,
        medium: now.medium - previous.medium,
        critical: now.critical - previous.critical,
        usageMiB: cgroup.usage() / MiB,
        cacheMiB: stat.cache / MiB,
        rssMiB: stat.rss / MiB,
        activeFileMiB: stat.active_file / MiB,
        inactiveFileMiB: stat.inactive_file / MiB,
        pgscan:
          now.vmstat.pgscan_file +
          now.vmstat.pgscan_anon -
          previous.vmstat.pgscan_file -
          previous.vmstat.pgscan_anon,
        pgsteal:
          now.vmstat.pgsteal_file +
          now.vmstat.pgsteal_anon -
          previous.vmstat.pgsteal_file -
          previous.vmstat.pgsteal_anon,
        refaults: now.vmstat.workingset_refault_file - previous.vmstat.workingset_refault_file,
        oom: oomMs !== null,
      };
      seconds.push(sample);
      if (detail) progress(`    ${JSON.stringify(sample)}`);
      previous = now;
    }
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 2000))]);
    // Give the last work items a moment to be read before the listeners close.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const readMiBPerSecond = readAt > 0 ? readBytes / MiB / (readAt / 1000) : 0;
    const scanned = seconds.reduce((sum, sample) => sum + sample.pgscan, 0);
    const windowsPerEvent = counts.low > 0 ? Math.max(1, scanned / 512 / counts.low) : 1;
    return {
      figures: sim.figures(counts, workload.durationMs, firstMediumMs, oomMs),
      inputs: { readMiBPerSecond, windowsPerEvent },
      seconds,
    };
  } finally {
    for (const watcher of watchers) watcher.close();
    await cgroup.remove();
  }
}

function format(value, key) {
  if (value === null) return 'none';
  if (key === 'mediumShare' || key === 'criticalShare') return `${(value * 100).toFixed(1)}%`;
  if (key === 'windowsPerSecond') return `${value.toFixed(0)}/s`;
  return `${(value / 1000).toFixed(2)} s`;
}

function formatError(error) {
  if (error === Infinity) return 'n/a';
  return `${(error * 100).toFixed(0)}%`;
}

const FIGURES = [
  ['mediumShare', 'windows >= medium', 0.02],
  ['criticalShare', 'windows critical', 0.02],
  ['firstMediumMs', 'first medium', 50],
  ['windowsPerSecond', 'event rate (low listener)', 0],
  ['oomMs', 'OOM kill', 0],
];
const TARGETED = new Set(sim.TARGET_FIGURES.map((figure) => figure.key));

/** The comparison table, markdown; also returns whether every targeted figure is within tolerance. */
function table(rows) {
  const lines = [
    '| workload | figure | kernel (median) | simulator | error |',
    '| --- | --- | --- | --- | --- |',
  ];
  let within = true;
  for (const { workload, kernel, simulated } of rows) {
    for (const [key, label, floor] of FIGURES) {
      // The plain relative error is shown; the target is judged with the figure's resolution.
      const error = sim.relativeError(kernel[key], simulated[key]);
      const judged = sim.relativeError(kernel[key], simulated[key], floor);
      const targeted = TARGETED.has(key);
      if (targeted && judged > sim.CALIBRATION_TOLERANCE) within = false;
      let mark = '';
      if (targeted && judged > sim.CALIBRATION_TOLERANCE) mark = ' (off target)';
      else if (targeted && error > sim.CALIBRATION_TOLERANCE) mark = ' (within resolution)';
      lines.push(
        `| ${workload} | ${label} | ${format(kernel[key], key)} | ${format(simulated[key], key)} | ${formatError(error)}${mark} |`,
      );
    }
  }
  return { markdown: lines.join('\n'), within };
}

function machine() {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, no swap, cgroup v1`;
}

function load() {
  return os.loadavg()[0].toFixed(2);
}

function byName(name) {
  return sim.CALIBRATION_WORKLOADS.find((w) => w.name === name);
}

/** How the sensitivity table names and shows each of sim.CALIBRATION_CONSTANTS. */
const CONSTANT_LABELS = {
  readaheadMiB: ['`files.readahead` (MiB)', (v) => v.toFixed(1)],
  ioPerScan: ['`machine.ioPerScan`', (v) => v.toFixed(3)],
  jitter: ['`jitter`', (v) => v.toFixed(3)],
};

/** The sensitivity table: each calibrated constant alone at -10%, its value and +10% (markdown). */
async function printSensitivity(medians, workloads) {
  for (const workload of workloads) {
    const entry = medians.workloads.find((w) => w.workload === workload.name);
    if (!entry) throw new Error(`calibrate: the fixture has no '${workload.name}'`);
    const rows = await sim.calibrationSensitivity(workload, entry.inputs);
    const cell = (row) => {
      const f = row.figures;
      return `${format(f.mediumShare, 'mediumShare')} / ${format(f.criticalShare, 'criticalShare')}`;
    };
    const lines = [
      `\`${workload.name}\`, windows >= medium / critical (kernel ${format(entry.kernel.mediumShare, 'mediumShare')} / ` +
        `${format(entry.kernel.criticalShare, 'criticalShare')}; simulator: medians of seeds 1-5):`,
      '',
      '| constant | -10% | calibrated | +10% |',
      '| --- | --- | --- | --- |',
    ];
    for (const constant of Object.keys(sim.CALIBRATION_CONSTANTS)) {
      const [label, show] = CONSTANT_LABELS[constant] ?? [`\`${constant}\``, (v) => v.toPrecision(3)];
      const of = (change) =>
        rows.find((row) => row.constant === constant && Math.abs(row.change - change) < 1e-9);
      const cells = [-0.1, 0, 0.1].map((change) => `${show(of(change).value)}: ${cell(of(change))}`);
      lines.push(`| ${label} | ${cells.join(' | ')} |`);
    }
    process.stdout.write(`${lines.join('\n')}\n\n`);
  }
}

async function main() {
  const options = parseArguments(process.argv.slice(2));
  const selected = sim.CALIBRATION_WORKLOADS.filter(
    (w) => options.workloads.length === 0 || options.workloads.includes(w.name),
  );
  let medians;
  const fixture = options.fixture;
  if (options.simulateOnly) {
    medians = JSON.parse(fs.readFileSync(fixture, 'utf8'));
  } else {
    const unavailable =
      testCgroupsUnavailableReason() ??
      (nativeAvailability().available ? undefined : nativeAvailability().reason);
    if (unavailable) throw new Error(`calibrate: cannot run on the kernel here: ${unavailable}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memshed-calibration-'));
    const loadBefore = load();
    const results = [];
    try {
      const binary = compileWorkload(dir);
      progress(`writing the workload files under ${dir}`);
      for (const w of selected) {
        if (w.fileMiB && !fs.existsSync(path.join(dir, `file-${w.fileMiB}.bin`)))
          writeFile(path.join(dir, `file-${w.fileMiB}.bin`), w.fileMiB);
        if (w.hotMiB && !fs.existsSync(path.join(dir, `hot-${w.hotMiB}.bin`)))
          writeFile(path.join(dir, `hot-${w.hotMiB}.bin`), w.hotMiB);
      }
      for (const w of selected) {
        const workloadFiles = {};
        if (w.fileMiB) workloadFiles.main = path.join(dir, `file-${w.fileMiB}.bin`);
        if (w.hotMiB) workloadFiles.hot = path.join(dir, `hot-${w.hotMiB}.bin`);
        const runs = [];
        for (let run = 1; run <= options.runs; run++) {
          progress(`${w.name}: run ${run}/${options.runs} (${w.durationMs / 1000} s, load ${load()})`);
          const result = await runOnKernel(w, binary, workloadFiles, options.detail);
          const f = result.figures;
          progress(
            `  windows ${f.windowsPerSecond.toFixed(0)}/s, >= medium ${(f.mediumShare * 100).toFixed(1)}%, ` +
              `critical ${(f.criticalShare * 100).toFixed(1)}%, first medium ${format(f.firstMediumMs, 'firstMediumMs')}, ` +
              `OOM ${format(f.oomMs, 'oomMs')}, reads ${result.inputs.readMiBPerSecond.toFixed(0)} MiB/s, ` +
              `${result.inputs.windowsPerEvent.toFixed(1)} windows/event`,
          );
          runs.push(result);
        }
        const kernel = {};
        for (const [key] of FIGURES) kernel[key] = sim.median(runs.map((r) => r.figures[key]));
        results.push({
          workload: w.name,
          runs: runs.length,
          inputs: {
            readMiBPerSecond: sim.median(runs.map((r) => r.inputs.readMiBPerSecond)) ?? 0,
            windowsPerEvent: sim.median(runs.map((r) => r.inputs.windowsPerEvent)) ?? 1,
          },
          kernel,
        });
      }
    } finally {
      await removeAllTestCgroups();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    medians = {
      machine: machine(),
      kernel: `Linux ${os.release()}`,
      date: new Date().toISOString(),
      load: `${loadBefore} -> ${load()} (1 min load average on ${os.cpus().length} CPUs)`,
      workloads: results,
    };
    if (options.write) {
      // Keep the workloads not run this time: the fixture always covers the whole set.
      if (options.workloads.length > 0 && fs.existsSync(fixture)) {
        const old = JSON.parse(fs.readFileSync(fixture, 'utf8'));
        const kept = old.workloads.filter((w) => !results.some((r) => r.workload === w.workload));
        medians = { ...medians, workloads: [...kept, ...results] };
      }
      fs.writeFileSync(fixture, `${JSON.stringify(medians, null, 2)}\n`);
      progress(`wrote ${path.relative(process.cwd(), fixture)}`);
    }
  }
  if (options.sensitivity) {
    await printSensitivity(medians, options.workloads.length > 0 ? selected : [byName('stream-squeeze')]);
    return;
  }
  const rows = [];
  for (const entry of medians.workloads) {
    const workload = sim.CALIBRATION_WORKLOADS.find((w) => w.name === entry.workload);
    if (!workload || !selected.includes(workload)) continue;
    const simulated = await sim.simulateCalibrationMedians(workload, entry.inputs);
    rows.push({ workload: workload.name, kernel: entry.kernel, simulated });
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ medians, rows })}\n`);
    return;
  }
  const { markdown, within } = table(rows);
  process.stdout.write(
    `Machine: ${medians.machine}; ${medians.kernel}; ${medians.date}; load ${medians.load}; ` +
      `kernel: medians of ${medians.workloads[0]?.runs ?? 0} runs per workload; simulator: medians of seeds 1-5.\n\n${markdown}\n\n`,
  );
  process.stdout.write(
    within
      ? `Every targeted figure is within ${sim.CALIBRATION_TOLERANCE * 100}% of the kernel's median.\n`
      : `Some targeted figures are off the ${sim.CALIBRATION_TOLERANCE * 100}% target (marked).\n`,
  );
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
