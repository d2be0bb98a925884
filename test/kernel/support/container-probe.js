#!/usr/bin/env node
/**
 * Starts memshed's sources inside a container environment (test/kernel/support/container.ts) and
 * reports, as JSON lines on stdout, what each of them does there:
 *
 *   node container-probe.js --sources cgroup-v1,system,psi,vmstat,v8 --fill MiB --file F --seconds S
 *
 * 1. `{"type":"status","sources":[{id,state,detail,scope,error}]}`: each source as the built
 *    packages start it (createMemshed, the path `memshed run` and applications take);
 * 2. `{"type":"idle","cpuMs":n,"wallMs":n}`: this process's CPU time over 2 s with every source
 *    running and nothing happening (a busy loop shows as ~2000 ms);
 * 3. `{"type":"event",source,level,scope,atMs}` for each pressure event while it allocates `--fill`
 *    MiB of anonymous memory in 8 MiB steps and reads `--file` in a loop (page-cache churn, so that
 *    the group's reclaim runs), for at most `--seconds`;
 * 4. `{"type":"done"}`, then it exits 0. It exits on its own: the caller bounds it by a timeout too.
 *
 * It uses the built packages (npm run build), as a service in the container would.
 */
'use strict';
const fs = require('node:fs');
const { createMemshed, silentLogger } = require('@memshed/core');
const { builtinModules } = require('@memshed/config');

function argument(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1];
}

const sources = argument('sources', 'cgroup-v1,system,psi,vmstat,v8').split(',');
const fillMiB = Number(argument('fill', '0'));
const file = argument('file', undefined);
const seconds = Number(argument('seconds', '5'));
const MiB = 1024 * 1024;

function print(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

async function main() {
  const memshed = await createMemshed({
    modules: builtinModules(),
    sources: sources.map((id) => ({ use: id })),
    logger: silentLogger,
  });
  print({
    type: 'status',
    sources: memshed.sources.map((status) => ({
      id: status.id,
      state: status.state,
      detail: status.availability.available ? status.availability.detail : undefined,
      scope: status.availability.available ? status.availability.scope : undefined,
      error: status.error?.message,
    })),
  });

  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 2000));
  const cpu = process.cpuUsage(cpuBefore);
  print({ type: 'idle', cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - wallBefore });

  const started = performance.now();
  const seen = new Set();
  memshed.events$.subscribe((event) => {
    seen.add(event.source);
    print({
      type: 'event',
      source: event.source,
      level: event.level,
      scope: event.scope,
      atMs: Math.round(performance.now() - started),
    });
  });
  const held = [];
  const fd = file === undefined ? undefined : fs.openSync(file, 'r');
  const chunk = Buffer.alloc(MiB);
  let offset = 0;
  const deadline = started + seconds * 1000;
  // Allocate and touch in steps, reading the file between them, until the deadline: the events are
  // delivered on this event loop, so it yields every step.
  while (performance.now() < deadline) {
    if (held.length * 8 < fillMiB) held.push(Buffer.alloc(8 * MiB, 1));
    if (fd !== undefined) {
      for (let i = 0; i < 8; i++) {
        const read = fs.readSync(fd, chunk, 0, chunk.length, offset);
        offset = read < chunk.length ? 0 : offset + read;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (held.length * 8 >= fillMiB && seen.has('system') && performance.now() - started > 1500) break;
  }
  if (fd !== undefined) fs.closeSync(fd);
  await memshed.stop();
  print({ type: 'done', heldMiB: held.length * 8 });
  process.exit(0);
}

main().catch((error) => {
  print({ type: 'crash', error: String(error && error.stack ? error.stack : error) });
  process.exit(1);
});
