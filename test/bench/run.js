#!/usr/bin/env node
// Runs the benchmarks named on the command line (default: all), one node process each, passing
// on the flags: `npm run bench`, `npm run bench -- engine`, `npm run bench -- idle --seconds 10`.
'use strict';

const { spawnSync } = require('node:child_process');
const { readdirSync } = require('node:fs');
const path = require('node:path');

const available = readdirSync(__dirname)
  .filter((file) => file.endsWith('.js') && file !== 'run.js')
  .map((file) => file.slice(0, -3));
const args = process.argv.slice(2);
const flagIndex = args.findIndex((arg) => arg.startsWith('--'));
const wanted = flagIndex < 0 ? args : args.slice(0, flagIndex);
const flags = flagIndex < 0 ? [] : args.slice(flagIndex);
const unknown = wanted.filter((name) => !available.includes(name));
if (unknown.length) {
  console.error(`Unknown benchmark: ${unknown.join(', ')}. Known: ${available.join(', ')}`);
  process.exit(2);
}
let failed = false;
for (const name of wanted.length ? wanted : available) {
  console.error(`\n== bench ${name}`);
  const result = spawnSync(process.execPath, [path.join(__dirname, `${name}.js`), ...flags], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed = true;
}
process.exitCode = failed ? 1 : 0;
