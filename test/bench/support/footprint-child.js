// One process for test/bench/footprint.js: `bare` does nothing; `memshed` starts memshed core with
// one source (cgroup-v1 on its own cgroup) and one action (gc, run at medium), from the built
// packages, the way an application would; `service` starts memshed the way a service configured by
// a file does: examples/express-app's .memshedrc.yaml (memshed's default policy: v8, system and
// cgroup-v1 sources; cache-purge, gc and service-shutdown actions) through @memshed/config, with
// @memshed/http loaded for its load shedder; `express` loads express and makes an app, and
// `express+memshed` does that, then what `memshed` does (memshed's cost in an application that
// has loaded a framework already). Then it prints two JSON lines and exits:
// - rss, anon, file: process RSS and its anonymous / file-backed parts (/proc/self/status) at ready
//   (file-backed pages are mostly node's own binary, shared with every other node process);
// - heap: V8 committed heap, newSpace: committed young generation (it grows when many objects
//   survive, as module loading makes them do);
// - cpu: user + system CPU time of the whole process (robust to other load on the machine);
// - cjs: CommonJS modules loaded (files: which); phases: ms spent requiring core, the plugins, and starting;
// - then, on a second line, retained: used V8 heap after a full gc (run with --expose-gc, as
//   footprint.js does for both variants; the gc comes after everything else is read).
'use strict';

const { readFileSync } = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const phases = {};
let last = process.hrtime.bigint();
function phase(name) {
  const now = process.hrtime.bigint();
  phases[name] = Number(now - last) / 1e6;
  last = now;
}

/** The service's plugins: the ones its config names. */
const SERVICE_PLUGINS = [
  'source-v8',
  'source-system',
  'source-cgroup-v1',
  'action-cache-purge',
  'action-gc',
  'action-service-shutdown',
];

async function startService() {
  const { loadConfig, createMemshedFromConfig } = require('@memshed/config');
  phase('core');
  const modules = SERVICE_PLUGINS.map((name) => require(`@memshed/${name}`).default);
  require('@memshed/http');
  phase('plugins');
  const loaded = await loadConfig({
    config: '.memshedrc.yaml',
    cwd: path.join(__dirname, '../../../examples/express-app'),
    modules,
  });
  const memshed = await createMemshedFromConfig({ loaded });
  const stopped = memshed.sources.filter((source) => source.state !== 'running');
  if (stopped.length) throw new Error(`sources not running: ${stopped.map((source) => source.id)}`);
  phase('start');
  return memshed;
}

/** An application's own start-up before memshed's: express loaded and an app made. */
function startExpress() {
  const express = require('express');
  express().get('/', (request, response) => response.send('ok'));
  phase('express');
}

const VARIANTS = ['bare', 'memshed', 'service', 'express', 'express+memshed'];

async function start(variant) {
  if (!VARIANTS.includes(variant)) throw new Error(`unknown variant ${variant}: ${VARIANTS.join(', ')}`);
  if (variant.startsWith('express')) startExpress();
  if (variant === 'bare' || variant === 'express') return undefined;
  if (variant === 'service') return startService();
  const { createMemshed, SheddingActionFactory, validateOptions } = require('@memshed/core');
  phase('core');
  const cgroupV1 = require('@memshed/source-cgroup-v1');
  const gc = require('@memshed/action-gc');
  phase('plugins');
  const memshed = await createMemshed({
    modules: [cgroupV1.default, gc.default],
    sources: [{ use: 'cgroup-v1' }],
  });
  if (memshed.sources[0].state !== 'running') throw new Error(`cgroup-v1 is ${memshed.sources[0].state}`);
  const factory = memshed.container.getAll(SheddingActionFactory).find((candidate) => candidate.id === 'gc');
  // The way createMemshed and config validate a plugin's `with:` (omitted: all defaults).
  const options = validateOptions(factory.optionsSchema, undefined);
  if (!options.ok) throw new Error(`gc options: ${JSON.stringify(options.issues)}`);
  const action = factory.create(options.value);
  let state;
  memshed.level$.subscribe((value) => (state = value));
  memshed
    .listen('medium')
    .subscribe((event) => void memshed.runner.run(action, { level: state, trigger: event }));
  phase('start');
  return memshed;
}

function statusBytes(text, field) {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
  return match ? Number(match[1]) * 1024 : NaN;
}

start(process.argv[2]).then(
  async (memshed) => {
    const { rss } = process.memoryUsage();
    const status = readFileSync('/proc/self/status', 'utf8');
    const cpu = process.cpuUsage();
    const newSpace = v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    const report = {
      rss,
      anon: statusBytes(status, 'RssAnon'),
      file: statusBytes(status, 'RssFile'),
      heap: v8.getHeapStatistics().total_heap_size,
      newSpace: newSpace.space_size,
      cpu: (cpu.user + cpu.system) / 1e3,
      cjs: Object.keys(require.cache).length,
      files: Object.keys(require.cache), // the parent counts the ES modules they require
      phases,
    };
    // The parent times start-up to this first line, so the gc below is not counted in it.
    process.stdout.write(`${JSON.stringify(report)}\n`);
    if (typeof global.gc === 'function') {
      global.gc();
      process.stdout.write(`${JSON.stringify({ retained: v8.getHeapStatistics().used_heap_size })}\n`);
    }
    await memshed?.stop();
  },
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(2);
  },
);
