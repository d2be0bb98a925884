// Builds and runs the C transcription of mm/vmpressure.c (vmpressure.c beside this file) for the
// engine-vs-c benchmark. The binary is compiled with `-O2` into the OS temporary directory, named
// after a hash of the source and compiler so that an edit rebuilds it; nothing is committed.
'use strict';

const { spawnSync } = require('node:child_process');
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SOURCE = path.join(__dirname, 'vmpressure.c');

/**
 * The workload's shape, shared by test/bench/engine-vs-c.js and the engine's unit test against C:
 * two subtrees of the root, three levels deep, with listeners of every mode and level on leaves,
 * inner nodes and the root (some nodes have none). `parents` are indexes into `paths`; levels are
 * the kernel's numbers (0 low, 1 medium, 2 critical), modes 0 default, 1 hierarchy, 2 local. Every
 * `tick` operations the pending work runs and the clock moves one millisecond.
 */
const WORKLOAD = Object.freeze({
  seed: 0x5eed,
  tick: 128,
  paths: ['/', '/a', '/a/b', '/a/b/c', '/a/d', '/e', '/e/f', '/e/f/g'],
  parents: [-1, 0, 1, 2, 1, 0, 5, 6],
  registrations: [
    { node: 0, level: 0, mode: 1 },
    { node: 1, level: 1, mode: 0 },
    { node: 2, level: 0, mode: 2 },
    { node: 3, level: 2, mode: 0 },
    { node: 4, level: 0, mode: 0 },
    { node: 5, level: 0, mode: 0 },
    { node: 5, level: 2, mode: 1 },
    { node: 7, level: 1, mode: 1 },
    { node: 7, level: 0, mode: 2 },
  ],
});

/**
 * The workload, as support/vmpressure.c generates it (keep the two identical): xorshift32 from
 * `seed`; a reclaim efficiency per node (0-576 of 512) redrawn now and then; per operation a node,
 * a kind (1 in 32 a reclaim priority 0-15, 6 in 32 tree = false, the rest tree = true), 0-255 pages
 * scanned and the reclaimed pages that the node's efficiency gives, plus 0-3 (slab).
 * kind: 0 tree = false, 1 tree = true, 2 priority (in `scanned`).
 */
function generateWorkload({ seed, ops, parents }) {
  let state = seed >>> 0;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>>= 0);
  };
  const nodeCount = parents.length;
  const efficiency = new Uint32Array(nodeCount);
  for (let n = 0; n < nodeCount; n++) efficiency[n] = next() % 577;
  const node = new Uint8Array(ops);
  const kind = new Uint8Array(ops);
  const scanned = new Uint16Array(ops);
  const reclaimed = new Uint16Array(ops);
  for (let i = 0; i < ops; i++) {
    const r = next();
    const n = r % nodeCount;
    const k = (r >>> 8) & 31;
    const s = (r >>> 13) & 255;
    if (((r >>> 21) & 63) === 0) efficiency[n] = next() % 577;
    node[i] = n;
    kind[i] = k === 0 ? 2 : k <= 6 ? 0 : 1;
    scanned[i] = k === 0 ? (r >>> 13) & 15 : s;
    reclaimed[i] = ((s * efficiency[n]) >>> 9) + ((r >>> 27) & 3);
  }
  return { node, kind, scanned, reclaimed };
}

/** The first C compiler on PATH ($CC, cc, gcc, clang), or undefined when there is none. */
function findCompiler() {
  const candidates = [process.env.CC, 'cc', 'gcc', 'clang'].filter(Boolean);
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return { command: candidate, version: probe.stdout.split('\n')[0] };
  }
  return undefined;
}

/**
 * Compiles vmpressure.c with -O2 (once per source and compiler) and returns the binary's path and
 * the compiler's version line.
 *
 * @throws Error naming the compiler's output when compilation fails, or saying how to get a
 *   compiler when none is found.
 */
function buildVmpressureC() {
  const compiler = findCompiler();
  if (!compiler) {
    throw new Error(
      'No C compiler found (tried $CC, cc, gcc, clang): install one (e.g. `apt-get install gcc`) ' +
        'or set CC to run test/bench/support/vmpressure.c',
    );
  }
  const source = fs.readFileSync(SOURCE);
  const hash = createHash('sha256').update(source).update(compiler.version).digest('hex').slice(0, 16);
  const directory = path.join(os.tmpdir(), 'memshed-bench');
  const binary = path.join(directory, `vmpressure-${hash}`);
  if (!fs.existsSync(binary)) {
    fs.mkdirSync(directory, { recursive: true });
    const partial = `${binary}.${process.pid}`;
    const result = spawnSync(compiler.command, ['-O2', '-std=c11', '-o', partial, SOURCE], {
      encoding: 'utf8',
    });
    if (result.status !== 0) {
      throw new Error(`${compiler.command} -O2 ${SOURCE} failed:\n${result.stderr || result.error}`);
    }
    fs.renameSync(partial, binary);
  }
  return { binary, compiler: `${compiler.version} -O2` };
}

/**
 * Runs the C transcription on the workload described by `spec` (see engine-vs-c.js) and returns
 * `{ nsPerOp, socket, counts }` as the binary prints them.
 */
function runVmpressureC(binary, spec) {
  const args = [
    spec.seed,
    spec.ops,
    spec.repeat,
    spec.rounds,
    spec.tick,
    spec.parents.join(','),
    spec.registrations.map((r) => `${r.node}:${r.level}:${r.mode}`).join(','),
  ].map(String);
  const result = spawnSync(binary, args, { encoding: 'utf8' });
  if (result.status !== 0)
    throw new Error(`${binary} ${args.join(' ')} failed:\n${result.stderr || result.error}`);
  return JSON.parse(result.stdout);
}

module.exports = { WORKLOAD, generateWorkload, findCompiler, buildVmpressureC, runVmpressureC };
