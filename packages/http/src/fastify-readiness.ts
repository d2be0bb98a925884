import { MemshedError } from '@memshed/core';
import type { FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { PressureStateSource } from './load-shedder-options';
import { Readiness } from './readiness';
import type { ReadinessOptions } from './readiness-options';
import { LIVENESS_BODY, probeStatusCode } from './readiness-probes';

/** Options of {@link fastifyReadinessProbes}: what to follow (or a readiness), and the readiness options. */
export interface FastifyReadinessProbesOptions extends ReadinessOptions {
  /** The running memshed (or a monitor) to follow. Either this or `readiness`. */
  readonly memshed?: PressureStateSource;
  /** A readiness to share with other adapters; the plugin then ignores the other options. */
  readonly readiness?: Readiness;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The memshed readiness of this instance (registered by `fastifyReadinessProbes`). */
    readiness: Readiness;
  }
}

const plugin: FastifyPluginAsync<FastifyReadinessProbesOptions> = async (fastify, options) => {
  if (!options.readiness && !options.memshed) {
    throw new MemshedError(
      'invalid-argument',
      'fastifyReadinessProbes needs the running memshed or a readiness',
      {
        fix: 'register it as fastify.register(fastifyReadinessProbes, { memshed })',
      },
    );
  }
  const readiness = options.readiness ?? new Readiness(options.memshed as PressureStateSource, options);
  fastify.decorate('readiness', readiness);
  if (!options.readiness) fastify.addHook('onClose', async () => readiness.close());

  // Essential for fastifyLoadShedding: a probe is never shed, whatever order the plugins have.
  const config = { loadShedding: { priority: 'essential' as const } };
  fastify.route({
    method: 'GET',
    url: readiness.options.readinessPath,
    config,
    handler: async (_request, reply) => {
      const status = await readiness.probe();
      return reply.code(probeStatusCode(status)).header('Cache-Control', 'no-store').send(status);
    },
  });
  fastify.route({
    method: 'GET',
    url: readiness.options.livenessPath,
    config,
    handler: async (_request, reply) => reply.header('Cache-Control', 'no-store').send(LIVENESS_BODY),
  });
};

/**
 * Kubernetes probes for Fastify 5: `GET /readyz` (200, or 503 under sustained memory pressure or
 * when `check()` says so) and `GET /livez` (always 200), as routes of priority `essential`, so that
 * `fastifyLoadShedding` never sheds them. `fastify.readiness` is the {@link Readiness}.
 *
 * @example
 * await fastify.register(fastifyReadinessProbes, { memshed, hold: '2s', recovery: '10s' });
 */
export const fastifyReadinessProbes = fp(plugin, { fastify: '5.x', name: '@memshed/http/readiness' });
