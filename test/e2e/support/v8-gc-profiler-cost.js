#!/usr/bin/env node
/**
 * What the v8 source's GC profiler costs per collection (docs/sources/v8.md):
 *
 *   node test/e2e/support/v8-gc-profiler-cost.js
 *
 * Forces minor collections in rounds, alternately with and without a running v8.GCProfiler, and
 * prints medians over 20 rounds: the time of one collection either way (their difference is the
 * profiler's own cost inside a collection) and the time to read one collection's record from the
 * profiler (`stop()` and its JSON parse), which the source pays once per collection it hands over.
 */
'use strict';
const v8 = require('node:v8');
const vm = require('node:vm');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const COLLECTIONS = 300;
const ROUNDS = 20;
const micros = { off: [], on: [], read: [] };

for (let round = 0; round < ROUNDS; round++) {
  // Alternate the order so that drift (other load, CPU frequency) hits both sides alike.
  for (const mode of round % 2 ? ['off', 'on'] : ['on', 'off']) {
    const profiler = mode === 'on' ? new v8.GCProfiler() : undefined;
    profiler?.start();
    const start = process.hrtime.bigint();
    for (let i = 0; i < COLLECTIONS; i++) gc({ type: 'minor' });
    micros[mode].push(Number(process.hrtime.bigint() - start) / COLLECTIONS / 1000);
    if (profiler) {
      const readStart = process.hrtime.bigint();
      const profile = profiler.stop();
      micros.read.push(Number(process.hrtime.bigint() - readStart) / COLLECTIONS / 1000);
      if (profile.statistics.length !== COLLECTIONS) {
        throw new Error(`expected ${COLLECTIONS} records, got ${profile.statistics.length}`);
      }
    }
  }
}

const median = (values) => values.slice().sort((a, b) => a - b)[values.length >> 1];
const off = median(micros.off);
const on = median(micros.on);
console.log(
  JSON.stringify({
    collectionMicros: { withoutProfiler: Number(off.toFixed(1)), withProfiler: Number(on.toFixed(1)) },
    profilerMicrosPerCollection: Number((on - off).toFixed(1)),
    readMicrosPerCollection: Number(median(micros.read).toFixed(1)),
  }),
);
