// One idle process for test/bench/idle.js: runs only the named source (through memshed, from the
// built packages) or @fastify/under-pressure, prints "ready" and then does nothing of its own.
'use strict';

const name = process.argv[2];

async function start() {
  if (name === 'bare') return;
  if (name === 'under-pressure') {
    const fastify = require('fastify')();
    await fastify.register(require('@fastify/under-pressure'), {
      maxEventLoopDelay: 1000,
      maxHeapUsedBytes: 0.6 * require('node:v8').getHeapStatistics().heap_size_limit,
      maxRssBytes: 0.8 * (process.constrainedMemory?.() || require('node:os').totalmem()),
      maxEventLoopUtilization: 0.98,
      healthCheck: async () => true,
      healthCheckInterval: 1000,
    });
    await fastify.listen({ host: '127.0.0.1', port: 0 });
    return;
  }
  const { createMemshed } = require('@memshed/core');
  const make = {
    core: () => undefined,
    'cgroup-v1': () => {
      const { CgroupV1Source, cgroupV1OptionsSchema } = require('@memshed/source-cgroup-v1');
      return new CgroupV1Source(cgroupV1OptionsSchema.parse({}));
    },
    system: () => {
      const { SystemSource, systemSourceOptionsSchema } = require('@memshed/source-system');
      return new SystemSource(systemSourceOptionsSchema.parse({}));
    },
    'system-container': () => {
      const { SystemSource, systemSourceOptionsSchema } = require('@memshed/source-system');
      return new SystemSource(systemSourceOptionsSchema.parse({ host: false }));
    },
    vmstat: () => {
      const { VmstatSource, vmstatSourceOptionsSchema } = require('@memshed/source-vmstat');
      return new VmstatSource(vmstatSourceOptionsSchema.parse({}));
    },
    psi: () => {
      const { PsiSource, psiSourceOptionsSchema } = require('@memshed/source-psi');
      return new PsiSource(psiSourceOptionsSchema.parse({}));
    },
    v8: () => {
      const { V8Source, v8SourceOptionsSchema } = require('@memshed/source-v8');
      return new V8Source(v8SourceOptionsSchema.parse({}));
    },
  }[name];
  if (!make) throw new Error(`idle-child: unknown source ${name}`);
  const source = make();
  const memshed = await createMemshed({ sources: source ? [source] : [] });
  if (!source) return;
  const status = memshed.sources[0];
  if (status.state !== 'running')
    throw new Error(
      `idle-child: ${name} is ${status.state}: ${status.error?.message ?? status.availability.reason}`,
    );
}

start().then(
  () => {
    // Keeps the process alive without a wakeup of its own (memshed's watchers are unref'd).
    setInterval(() => {}, 2 ** 31 - 1);
    process.stdout.write('ready\n');
  },
  (error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exit(2);
  },
);
