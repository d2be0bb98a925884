// One process for test/bench/footprint.js: `bare` does nothing; `memshed` starts memshed core with
// one source (cgroup-v1 on its own cgroup) and one action (gc, run at medium), from the built
// packages, the way an application would. Then it prints its RSS and exits.
'use strict';

async function start(variant) {
  if (variant === 'bare') return;
  const { createMemshed, SheddingActionFactory } = require('@memshed/core');
  const cgroupV1 = require('@memshed/source-cgroup-v1');
  const gc = require('@memshed/action-gc');
  const memshed = await createMemshed({
    modules: [cgroupV1.default, gc.default],
    sources: [{ use: 'cgroup-v1' }],
  });
  if (memshed.sources[0].state !== 'running') throw new Error(`cgroup-v1 is ${memshed.sources[0].state}`);
  const factory = memshed.container.getAll(SheddingActionFactory).find((candidate) => candidate.id === 'gc');
  const action = factory.create(factory.optionsSchema.parse({}));
  let state;
  memshed.level$.subscribe((value) => (state = value));
  memshed
    .listen('medium')
    .subscribe((event) => void memshed.runner.run(action, { level: state, trigger: event }));
  return memshed;
}

start(process.argv[2]).then(
  async (memshed) => {
    const rss = process.memoryUsage().rss;
    process.stdout.write(`${JSON.stringify({ rss, heapUsed: process.memoryUsage().heapUsed })}\n`);
    await memshed?.stop();
  },
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(2);
  },
);
