import underPressure from '@fastify/under-pressure';
import { createMemshed, type Memshed, type PressureSource, type SourceSpec } from '@memshed/core';
import { fastifyLoadShedding } from '@memshed/http/fastify';
import { serveMetrics, type MetricsServer } from '@memshed/prometheus';
import psiModule from '@memshed/source-psi';
import systemModule from '@memshed/source-system';
import Fastify, { type FastifyInstance } from 'fastify';
import type { SchedulerLike } from 'rxjs';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** API port; 0 picks a free one. Default 3000. */
  readonly port?: number;
  /** Metrics port; 0 picks a free one. Default 9464. */
  readonly metricsPort?: number;
  /**
   * memshed's sources. Default: PSI where the kernel has it (optional: skipped without an error
   * elsewhere), and the system source, which runs everywhere.
   */
  readonly sources?: readonly (SourceSpec | PressureSource)[];
  /** memshed's clock (a ManualScheduler in tests). */
  readonly scheduler?: SchedulerLike;
}

/** The running example. */
export interface RunningServer {
  readonly url: string;
  readonly fastify: FastifyInstance;
  readonly memshed: Memshed;
  readonly metrics: MetricsServer;
  close(): Promise<void>;
}

/** Starts the Fastify API with memshed in code: no config file, the programmatic API only. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  // #region memshed
  const memshed = await createMemshed({
    modules: [psiModule, systemModule],
    sources: options.sources ?? [{ use: 'psi', optional: true }, { use: 'system' }],
    recovery: { quiet: 5000 },
    scheduler: options.scheduler,
  });
  // #endregion memshed

  // #region plugin
  const fastify = Fastify();
  // Absolute thresholds, polled every second (heap, RSS, event-loop delay)...
  await fastify.register(underPressure, { maxEventLoopDelay: 1000, retryAfter: 10 });
  // ...and the kernel's own pressure, in milliseconds: either one sheds.
  await fastify.register(fastifyLoadShedding, {
    memshed,
    retryAfter: 10,
    exposeStatusRoute: '/memshed/status',
  });

  fastify.get('/healthz', { config: { loadShedding: { priority: 'essential' } } }, async () => 'ok');
  fastify.get('/api/export', { config: { loadShedding: { priority: 'low' } } }, async () => ({ rows: 1000 }));
  // #endregion plugin
  fastify.get<{ Querystring: { q?: string } }>('/api/search', async (request) => ({
    q: request.query.q ?? '',
    hits: [],
  }));

  // #region metrics
  const metrics = await serveMetrics(memshed, { port: options.metricsPort ?? 9464, host: '127.0.0.1' });
  // #endregion metrics

  const url = await fastify.listen({ port: options.port ?? 3000, host: '127.0.0.1' });
  let closing: Promise<void> | undefined;
  return {
    url,
    fastify,
    memshed,
    metrics,
    close() {
      closing ??= (async () => {
        await fastify.close();
        await metrics.close();
        await memshed.stop();
      })();
      return closing;
    },
  };
}
