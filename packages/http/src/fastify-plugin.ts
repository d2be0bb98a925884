/**
 * `@memshed/http/fastify`: the Fastify 5 plugins (load shedding, readiness probes). A subpath of its own because its declarations
 * import and augment fastify's types, which apps without fastify do not have.
 */
import { MemshedError } from '@memshed/core';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LoadShedder } from './load-shedder';
import type { LoadSheddingOptions, PressureStateSource } from './load-shedder-options';
import type { ShedDecision } from './load-shedder-status';
import type { RoutePriority } from './route-priority';

/**
 * Called instead of the default 503 for a shed request, as @fastify/under-pressure's
 * `pressureHandler`: send a reply, or return a value to send it, or return nothing to let the
 * request through. A handler that throws or rejects gets the default 503.
 */
export type FastifyPressureHandler = (
  request: FastifyRequest,
  reply: FastifyReply,
  decision: ShedDecision,
) => unknown;

/** A route's own settings: `fastify.get(url, { config: { loadShedding: { priority: 'low' } } }, handler)`. */
export interface FastifyRouteSheddingConfig {
  /** The route's priority; `essential` routes are never shed. */
  readonly priority?: RoutePriority;
  /** This route's pressure handler, instead of the plugin's. */
  readonly pressureHandler?: FastifyPressureHandler;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** memshed load shedding settings of this route. */
    loadShedding?: FastifyRouteSheddingConfig;
  }
  interface FastifyInstance {
    /** The memshed load shedder of this instance (registered by `fastifyLoadShedding`). */
    loadShedder: LoadShedder;
  }
}

/** Options of {@link fastifyLoadShedding}: what to follow (or a shedder), and the shedding options. */
export interface FastifyLoadSheddingOptions extends LoadSheddingOptions {
  /** The running memshed (or a monitor) to follow. Either this or `shedder`. */
  readonly memshed?: PressureStateSource;
  /** A shedder to share with other adapters; the plugin then ignores the other shedding options. */
  readonly shedder?: LoadShedder;
  /** Answers shed requests instead of the default 503 (a route's own handler wins). */
  readonly pressureHandler?: FastifyPressureHandler;
}

const plugin: FastifyPluginAsync<FastifyLoadSheddingOptions> = async (fastify, options) => {
  if (!options.shedder && !options.memshed) {
    throw new MemshedError('invalid-argument', 'fastifyLoadShedding needs the running memshed or a shedder', {
      fix: 'register it as fastify.register(fastifyLoadShedding, { memshed })',
    });
  }
  const shedder = options.shedder ?? new LoadShedder(options.memshed as PressureStateSource, options);
  fastify.decorate('loadShedder', shedder);
  // A shedder the plugin made follows memshed only as long as the server lives.
  if (!options.shedder) fastify.addHook('onClose', async () => shedder.close());

  const statusRoute = shedder.statusRoute;
  if (statusRoute !== undefined) {
    fastify.route({
      method: 'GET',
      url: statusRoute,
      config: { loadShedding: { priority: 'essential' } },
      handler: async (_request, reply) => {
        void reply.header('Cache-Control', 'no-store');
        return shedder.status();
      },
    });
  }

  fastify.addHook('onRequest', async (request, reply) => {
    if (statusRoute !== undefined && shedder.isStatusRequest(request.raw)) return;
    const route = request.routeOptions.config?.loadShedding;
    const decision = shedder.admit(request.raw, reply.raw, route?.priority);
    if (!decision.shed) return;
    const handler = route?.pressureHandler ?? options.pressureHandler;
    if (handler) {
      let result: unknown;
      let failed = false;
      try {
        result = await handler(request, reply, decision);
      } catch {
        failed = true;
      }
      if (reply.sent) return reply;
      if (!failed) {
        if (result !== undefined) return reply.send(result);
        // Nothing sent or returned: the handler lets the request through.
        shedder.track(reply.raw);
        return;
      }
    }
    return reply
      .code(503)
      .header('Retry-After', String(decision.retryAfter))
      .header('Cache-Control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(shedder.serializedBody(decision));
  });
};

/**
 * Load shedding for Fastify 5, as a plugin (fastify-plugin, so it applies to the whole instance):
 * an `onRequest` hook answers shed requests with 503, `Retry-After` and a small JSON body; routes
 * set their priority in `config.loadShedding`; `exposeStatusRoute` adds a status route. Option
 * names follow @fastify/under-pressure where the concept is the same, and both plugins can be
 * registered together.
 *
 * @example
 * await fastify.register(fastifyLoadShedding, { memshed, retryAfter: 10, exposeStatusRoute: '/memshed/status' });
 * fastify.get('/healthz', { config: { loadShedding: { priority: 'essential' } } }, async () => 'ok');
 */
export const fastifyLoadShedding = fp(plugin, { fastify: '5.x', name: '@memshed/http' });

export { fastifyReadinessProbes } from './fastify-readiness';
export type { FastifyReadinessProbesOptions } from './fastify-readiness';
