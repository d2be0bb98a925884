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

module.exports = { findCompiler, buildVmpressureC, runVmpressureC };
