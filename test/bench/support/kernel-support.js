// The kernel tests' real-cgroup helper (test/kernel/support/cgroup.ts), loaded into a plain node
// benchmark: the file imports only node builtins, so it is compiled alone with swc (the same
// options jest uses) instead of through system-ts-register.js, whose `@memshed/x` -> src mapping
// would make the benchmark measure the sources instead of the built packages.
'use strict';

const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const CGROUP_TS = path.join(__dirname, '../../kernel/support/cgroup.ts');

/** Compiles and loads one self-contained TypeScript module. */
function requireTs(filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs' },
  });
  const loaded = new Module(filename, module);
  loaded.filename = filename;
  loaded.paths = Module._nodeModulePaths(path.dirname(filename));
  loaded._compile(code, filename);
  return loaded.exports;
}

/** createTestCgroup, withTestCgroup, spawnWorkload, removeAllTestCgroups, exited, MiB, ... */
const cgroup = requireTs(CGROUP_TS);

/** Reads `name` of a /proc/PID/status-like text as a number (kB fields in kB). */
function statusField(text, name) {
  const match = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The median of a list of numbers. */
function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** `--name value` from the command line, or `fallback`. */
function argument(name, fallback) {
  const index = process.argv.indexOf(name);
  return index >= 0 && process.argv[index + 1] !== undefined ? process.argv[index + 1] : fallback;
}

/** One line per machine fact, for the results section. */
function machine() {
  const os = require('node:os');
  return (
    `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ` +
    `Linux ${os.release()}, Node ${process.version}, ${new Date().toISOString()}`
  );
}

module.exports = { ...cgroup, requireTs, statusField, median, argument, machine };
