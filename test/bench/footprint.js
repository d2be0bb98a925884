#!/usr/bin/env node
// Footprint: RSS and start-up time that memshed core + one source (cgroup-v1) + one action (gc)
// add to an application. The targets (docs/benchmarks.md) are defined against the same
// application without memshed, one that has loaded its web framework (express here): at most 8 MB
// RSS and 150 ms start-up extra. In the same rounds, for transparency: the same memshed start in a
// bare node process; a service configured by a file (examples/express-app's .memshedrc.yaml,
// memshed's default policy, through @memshed/config); and the core + cgroup-v1 + gc process
// bundled into one file with esbuild (the floor for what packaging can save).
//
// Each sample is a fresh process (test/bench/support/footprint-child.js), one of each variant per
// round in turn; start-up time is measured from spawn to the child's first line on stdout (node's own
// boot included in both, so the difference is memshed's: require of the built packages, container,
// source start with its eventfds, action creation). The child reports RSS (anonymous and
// file-backed), V8 committed heap and young generation, heap retained after a full gc, CPU time
// and modules loaded. Medians of --runs samples each (default 15).
//
// Then the trace: the same comparison with the young generation held at its initial size
// (--max-semi-space-size=1, both variants), to separate V8's young-generation growth from memory
// that is kept; with V8's optimizing compiler off (--no-opt, both variants), to separate the
// compiler's pages from memshed's own; and each dependency required alone in a fresh node (what
// it adds over bare node), with express and fastify for scale.
//
// Run: `npm run bench -- footprint` (builds first), or after `npx tsc -b`:
// `node test/bench/footprint.js [--runs N]`.
'use strict';

const { spawn } = require('node:child_process');
const { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } = require('node:fs');
const { builtinModules } = require('node:module');
const { tmpdir } = require('node:os');
const path = require('node:path');
const support = require('./support/kernel-support');

const RUNS = Number(support.argument('--runs', 15));
const CHILD = path.join(__dirname, 'support/footprint-child.js');
/** memshed's extra over the express app without it, at most. */
const TARGET_MS = 150;
const TARGET_BYTES = 8e6;

/** Spawns one child; resolves with its report plus `ms`, spawn to first stdout line. */
function sampleOnce(variant, nodeFlags = [], childFile = CHILD) {
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['--expose-gc', ...nodeFlags, childFile, variant], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line));
      resolve({ ms: Number(readyAt - started) / 1e6, ...Object.assign({}, ...lines) });
    });
  });
}

/**
 * Medians of `runs` rounds of samples, one of each variant per round in turn, per reported key.
 * `variants`: name -> [child argument, child file].
 */
async function compare(runs, nodeFlags = [], variants = { bare: ['bare'], memshed: ['memshed'] }) {
  const samples = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
  // Warm the file cache for all of them.
  for (const [arg, child] of Object.values(variants)) await sampleOnce(arg, nodeFlags, child);
  for (let i = 0; i < runs; i++) {
    for (const [name, [arg, child]] of Object.entries(variants)) {
      samples[name].push(await sampleOnce(arg, nodeFlags, child));
    }
  }
  const median = (variant, pick) => support.median(samples[variant].map(pick));
  return { samples, median };
}

/**
 * The `memshed` variant as one file: the child and everything it requires (memshed's packages,
 * RxJS, inversify, zod, reflect-metadata) bundled with esbuild, except the native addon, which
 * stays a .node file. No packaging of separate packages loads fewer module files, so this is the
 * floor for what packaging can save. Written to a temporary directory beside a link to the
 * addon's build directory (where @memshed/native looks for it); returns [file, remove].
 */
async function singleFileChild() {
  const { build } = require('esbuild');
  const dir = mkdtempSync(path.join(tmpdir(), 'memshed-footprint-'));
  const file = path.join(dir, 'dist', 'footprint-child.js');
  await build({
    entryPoints: [CHILD],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Only the `service` and `express` variants need these; left out so the bundle holds just the
    // `memshed` path.
    external: [
      '@memshed/config',
      '@memshed/http',
      '@memshed/source-v8',
      '@memshed/source-system',
      '@memshed/action-cache-purge',
      '@memshed/action-service-shutdown',
      'express',
    ],
    logLevel: 'warning',
  });
  symlinkSync(path.join(__dirname, '../../packages/native/build'), path.join(dir, 'build'));
  return [file, () => rmSync(dir, { recursive: true, force: true })];
}

/** Runs of each traced comparison (node flags on both variants). */
const TRACE_RUNS = Math.max(3, Math.ceil(RUNS / 3));

/** memshed's extra over bare node with `nodeFlags` on both: `(pick) => difference of medians`. */
async function extraWith(nodeFlags) {
  const { median } = await compare(TRACE_RUNS, nodeFlags);
  return (pick) => median('memshed', pick) - median('bare', pick);
}

/**
 * How many ES modules `require(request)` loads besides the entry (which require.cache lists, unlike
 * the rest of the graph `require(esm)` loads): its static import graph, followed through ES
 * packages. Dynamic imports are not followed; inversify 8.2.3 has none (checked against strace:
 * 246 files, the same set).
 */
function esmModuleCount(request, fromDir = __dirname) {
  const seen = new Set();
  const pending = [];
  const entry = packageEntry(request, fromDir);
  if (!entry.esm) return 0;
  pending.push(entry.file);
  const specifiers =
    /(?:^|[;\s])(?:import|export)\s[^'";]*?from\s*['"]([^'"]+)['"]|(?:^|[;\s])import\s*['"]([^'"]+)['"]/g;
  while (pending.length) {
    const file = pending.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(specifiers)) {
      const specifier = match[1] ?? match[2];
      if (specifier.startsWith('node:') || builtinModules.includes(specifier)) continue;
      if (specifier.startsWith('.')) pending.push(path.resolve(path.dirname(file), specifier));
      else {
        const dependency = packageEntry(specifier, path.dirname(file));
        if (dependency.esm) pending.push(dependency.file); // CommonJS ones are in require.cache
      }
    }
  }
  return seen.size - 1;
}

/**
 * The ES modules reachable from CommonJS files a process loaded (require.cache): every bare
 * `require("pkg")` in them that resolves to an ES package, with that package's import graph.
 */
function esmReachable(files) {
  const graphs = new Map(); // entry file -> ES modules it loads, itself included
  for (const file of files) {
    if (!file.endsWith('.js') && !file.endsWith('.cjs')) continue;
    for (const match of readFileSync(file, 'utf8').matchAll(/require\(["']([^"'./][^"']*)["']\)/g)) {
      if (match[1].startsWith('node:') || builtinModules.includes(match[1])) continue;
      let entry;
      try {
        // What require() loads: the package's `require` condition (a dual package such as js-yaml
        // gives require() its CommonJS file), an ES module only where that is all there is.
        entry = require.resolve(match[1], { paths: [path.dirname(file)] });
      } catch {
        continue; // an optional require (in a try) of a package that is not installed
      }
      if (isEsModule(entry) && !graphs.has(entry)) {
        graphs.set(entry, esmModuleCount(match[1], path.dirname(file)) + 1);
      }
    }
  }
  return [...graphs.values()].reduce((sum, count) => sum + count, 0);
}

/** Whether node loads `file` as an ES module (its extension, or its package's `type`). */
function isEsModule(file) {
  if (file.endsWith('.mjs') || file.endsWith('.cjs')) return file.endsWith('.mjs');
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type === 'module';
  }
  return false;
}

/** The file `import request` loads from `fromDir`, and whether its package is an ES package. */
function packageEntry(request, fromDir) {
  const parts = request.split('/');
  const name = request.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const subpath = `.${request.slice(name.length)}`;
  // Not require.resolve(`${name}/package.json`): packages whose exports omit it refuse that.
  let manifest = path.join(path.dirname(require.resolve(name, { paths: [fromDir] })), 'package.json');
  while (!existsSync(manifest) || JSON.parse(readFileSync(manifest, 'utf8')).name !== name) {
    const up = path.join(path.dirname(path.dirname(manifest)), 'package.json');
    if (up === manifest) throw new Error(`no package.json of ${name} above ${fromDir}`);
    manifest = up;
  }
  const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
  let target = pkg.exports
    ? typeof pkg.exports === 'string'
      ? subpath === '.' && pkg.exports
      : pkg.exports[subpath]
    : subpath === '.' && pkg.main;
  while (target && typeof target === 'object') target = target.import ?? target.node ?? target.default;
  const file = path.resolve(path.dirname(manifest), target || 'index.js');
  return { file, esm: isEsModule(file) };
}

const OPTIONS_ZOD = path.join(__dirname, '../../packages/options/dist/zod.js');

/** Required alone in a fresh node: memshed's dependencies as installed and as bundled, then two
 * common Node packages for scale. [request, label] */
const ALONE = [
  ['reflect-metadata'],
  ['rxjs'],
  ['inversify', 'inversify (the package, as installed)'],
  ['@memshed/core/inversify', 'inversify bundled (@memshed/core/inversify)'],
  ['zod', 'zod (the package, as installed)'],
  [OPTIONS_ZOD, 'zod subset bundled (@memshed/options dist/zod.js)'],
  ['@memshed/core'],
  ['@memshed/source-cgroup-v1'],
  ['@memshed/action-gc'],
  ['express', 'for scale: express'],
  ['fastify', 'for scale: fastify'],
];

/** Time, RSS, anonymous RSS, retained heap and CommonJS modules that `require(request)` adds. */
function requireCost(request) {
  const script = `
const v8 = require('node:v8');
const anon = () => Number(/^RssAnon:\\s+(\\d+)/m.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]) * 1024;
gc();
const used = v8.getHeapStatistics().used_heap_size, rss = process.memoryUsage().rss, a = anon();
const before = new Set(Object.keys(require.cache)), t = process.hrtime.bigint();
require(process.argv[1]);
const ms = Number(process.hrtime.bigint() - t) / 1e6;
const out = { ms, rss: process.memoryUsage().rss - rss, anon: anon() - a, files: Object.keys(require.cache).filter((file) => !before.has(file)) };
gc();
out.retained = v8.getHeapStatistics().used_heap_size - used;
console.log(JSON.stringify(out));`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '-e', script, request], {
      cwd: __dirname,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.on('data', (data) => (stdout += data));
    child.once('close', (code) =>
      code === 0 ? resolve(JSON.parse(stdout)) : reject(new Error(`require ${request}: ${code}`)),
    );
  });
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const ms = (value) => `${value.toFixed(1)} ms`;

async function main() {
  console.log(`Machine: ${support.machine()}; ${RUNS} processes per variant, alternating\n`);
  const [singleFile, removeSingleFile] = await singleFileChild();
  let samples;
  let median;
  let esm;
  try {
    ({ samples, median } = await compare(RUNS, [], {
      bare: ['bare'],
      memshed: ['memshed'],
      service: ['service'],
      singleFile: ['memshed', singleFile],
      express: ['express'],
      expressMemshed: ['express+memshed'],
    }));
    esm = Object.fromEntries(
      Object.entries(samples).map(([variant, runs]) => [variant, esmReachable(runs[0].files)]),
    );
  } finally {
    removeSingleFile();
  }
  const row = (label, variant) =>
    `| ${label} | ${ms(median(variant, (s) => s.ms))} | ${ms(median(variant, (s) => s.cpu))} | ` +
    `${mb(median(variant, (s) => s.rss))} | ${mb(median(variant, (s) => s.anon))} | ` +
    `${mb(median(variant, (s) => s.file))} | ${mb(median(variant, (s) => s.heap))} | ` +
    `${mb(median(variant, (s) => s.newSpace))} | ${mb(median(variant, (s) => s.retained))} | ` +
    `${median(variant, (s) => s.cjs)} + ${esm[variant]} |`;
  const extraOf =
    (variant, base = 'bare') =>
    (pick) =>
      median(variant, pick) - median(base, pick);
  const extraRow = (label, variant, base = 'bare') => {
    const extra = extraOf(variant, base);
    return (
      `| ${label} | **${ms(extra((s) => s.ms))}** | ${ms(extra((s) => s.cpu))} | ` +
      `**${mb(extra((s) => s.rss))}** | ${mb(extra((s) => s.anon))} | ${mb(extra((s) => s.file))} | ` +
      `${mb(extra((s) => s.heap))} | ${mb(extra((s) => s.newSpace))} | ${mb(extra((s) => s.retained))} | |`
    );
  };
  const extra = extraOf('memshed');
  console.log(
    '| process | start-up | CPU | RSS | anonymous | file-backed | V8 heap | of it young gen | retained after gc | modules (CJS + ESM) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  console.log(row('bare node', 'bare'));
  console.log(row('memshed core + cgroup-v1 + gc', 'memshed'));
  console.log(extraRow('extra over bare node', 'memshed'));
  console.log(row("a service configured by express-app's .memshedrc.yaml", 'service'));
  console.log(extraRow('extra', 'service'));
  console.log(row('core + cgroup-v1 + gc bundled into one file (esbuild)', 'singleFile'));
  console.log(extraRow('extra', 'singleFile'));
  console.log(row('an express app (express loaded, an app made)', 'express'));
  console.log(row('the express app + memshed core + cgroup-v1 + gc', 'expressMemshed'));
  console.log(
    extraRow(
      `**memshed's extra in the express app** (target <= ${TARGET_MS} ms, <= ${TARGET_BYTES / 1e6} MB)`,
      'expressMemshed',
      'express',
    ),
  );
  const extraMs = extra((s) => s.ms);
  const extraRss = extra((s) => s.rss);
  // Paired: each memshed run minus the bare run just before it, so that a slow spell of the
  // machine (this VM's start-up times drift by up to 1.7x) lands on both sides of a difference.
  const pairs = samples.memshed.map((sample, i) => sample.ms - samples.bare[i].ms).sort((a, b) => a - b);
  const quartile = (q) => pairs[Math.round((pairs.length - 1) * q)];
  console.log(
    `\nextra start-up, paired (each memshed run minus the bare run before it): median ` +
      `${ms(support.median(pairs))}, quartiles ${ms(quartile(0.25))} - ${ms(quartile(0.75))}`,
  );
  const phase = (name) => ms(median('memshed', (s) => s.phases[name]));
  console.log(
    `\nmemshed start-up by phase (medians): require @memshed/core ${phase('core')}, require the two ` +
      `plugins ${phase('plugins')}, createMemshed + action ${phase('start')}`,
  );

  // Young-generation growth: with it held at 1 MB semi-spaces in both variants, what is left of the
  // extra RSS is what memshed keeps (code, modules, objects) plus what loading it touched.
  const youngExtra = await extraWith(['--max-semi-space-size=1']);
  console.log(
    `\nWith --max-semi-space-size=1 (young generation not grown; ${TRACE_RUNS} runs): ` +
      `extra RSS ${mb(youngExtra((s) => s.rss))} (anonymous ${mb(youngExtra((s) => s.anon))}), ` +
      `extra start-up ${ms(youngExtra((s) => s.ms))}; so young-generation growth is ` +
      `${mb(extraRss - youngExtra((s) => s.rss))} of the ${mb(extraRss)} extra RSS.`,
  );

  // V8's optimizing compiler: loading a few dozen files makes node's own resolver functions hot
  // (path.normalizeString, path.resolve...), and TurboFan's code pages come in from the node
  // binary (file-backed RSS) with its zone memory. Without it in both variants, what is left is
  // memshed's own.
  const noOptExtra = await extraWith(['--no-opt']);
  console.log(
    `\nWith --no-opt (TurboFan off in both variants; ${TRACE_RUNS} runs): ` +
      `extra RSS ${mb(noOptExtra((s) => s.rss))} (anonymous ${mb(noOptExtra((s) => s.anon))}, ` +
      `file-backed ${mb(noOptExtra((s) => s.file))}); so the optimizing compiler is ` +
      `${mb(extraRss - noOptExtra((s) => s.rss))} of the ${mb(extraRss)} extra RSS.`,
  );

  console.log(
    '\n| required alone in a fresh node | require time | RSS added | anonymous | retained heap | modules (CJS + ESM) |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const [request, label = request] of ALONE) {
    const alone = [];
    for (let i = 0; i < Math.min(RUNS, 7); i++) alone.push(await requireCost(request));
    const m = (pick) => support.median(alone.map(pick));
    const files = alone[0].files;
    // What require() loads: an ES package's graph (require(esm)), or ES modules its CommonJS files require.
    const esm = isEsModule(require.resolve(request, { paths: [__dirname] }))
      ? esmModuleCount(request)
      : esmReachable(files);
    console.log(
      `| ${label} | ${ms(m((c) => c.ms))} | ${mb(m((c) => c.rss))} | ${mb(m((c) => c.anon))} | ` +
        `${mb(m((c) => c.retained))} | ${files.length} + ${esm} |`,
    );
  }
  const verdict = (met) => (met ? 'met' : 'MISSED');
  const inApp = extraOf('expressMemshed', 'express');
  const appMs = inApp((s) => s.ms);
  const appRss = inApp((s) => s.rss);
  console.log(
    `\nfootprint in the express app: start-up ${verdict(appMs <= TARGET_MS)} (${ms(appMs)} extra, ` +
      `target <= ${TARGET_MS} ms); RSS ${verdict(appRss <= TARGET_BYTES)} (${mb(appRss)} extra, ` +
      `target <= ${TARGET_BYTES / 1e6} MB)`,
  );
  // Printed, not judged: over a bare node process that loads nothing else, node's own loader and
  // optimizing compiler warm up on memshed's files (docs/benchmarks.md has why).
  console.log(`(over bare node: ${ms(extraMs)} and ${mb(extraRss)} extra)`);
  if (appMs > TARGET_MS || appRss > TARGET_BYTES) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
