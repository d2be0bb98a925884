import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import cachePurgeModule, { CacheRegistry } from '@memshed/action-cache-purge';
import gcModule from '@memshed/action-gc';
import serviceShutdownModule, { ServiceRegistry } from '@memshed/action-service-shutdown';
import { createMemshedFromConfig, loadConfig, type ConfiguredMemshed } from '@memshed/config';
import type { Logger, PressureSource } from '@memshed/core';
import { LoadShedder } from '@memshed/http';
import { mountMetrics } from '@memshed/prometheus';
import psiModule from '@memshed/source-psi';
import systemModule from '@memshed/source-system';
import { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import { createApp } from './app';
import { ItemService } from './item-service';
import { JobService } from './job-service';

/** The example's directory: its .memshedrc.yaml and scenarios/ are there. */
export const EXAMPLE_DIR = join(__dirname, '..');

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Port; 0 picks a free one. Default 3000. */
  readonly port?: number;
  /** Address. Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** Replaces the config's sources (the simulator in tests and `--simulate`). Default: the config's. */
  readonly sources?: readonly PressureSource[];
  /** memshed's clock (a ManualScheduler in tests). Default: the event loop. */
  readonly scheduler?: SchedulerLike;
  /** memshed's log. Default: silent. */
  readonly logger?: Logger;
}

/** The running example. */
export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  readonly memshed: ConfiguredMemshed;
  readonly shedder: LoadShedder;
  readonly registry: Registry;
  readonly items: ItemService;
  readonly jobs: JobService;
  /** Stops taking requests, stops memshed (policies, then sources), stops the jobs. */
  close(): Promise<void>;
}

/** Starts the API with memshed: the policy from .memshedrc.yaml, HTTP shedding, /metrics. */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  // #region memshed
  const config = await loadConfig({
    config: '.memshedrc.yaml',
    cwd: EXAMPLE_DIR,
    modules: [psiModule, systemModule, cachePurgeModule, serviceShutdownModule, gcModule],
  });
  const memshed = await createMemshedFromConfig({
    loaded: options.sources ? { ...config, sources: [] } : config,
    extraSources: options.sources,
    scheduler: options.scheduler,
    logger: options.logger,
  });

  const items = new ItemService();
  memshed.container.get(CacheRegistry).register('items', items.cache, {
    priority: 'low',
    sizeOf: (item) => item?.payload.length,
  });
  const jobs = new JobService();
  jobs.start();
  memshed.container.get(ServiceRegistry).register('jobs', {
    priority: 'background',
    stop: (signal) => jobs.stop(signal),
    start: () => jobs.start(),
  });
  // #endregion memshed

  // #region metrics
  const registry = new Registry();
  const metrics = mountMetrics(memshed, { registry });
  // #endregion metrics

  // #region shedding
  const shedder = new LoadShedder(memshed, {
    routes: [
      { path: '/healthz', priority: 'essential' },
      { path: '/metrics', priority: 'essential' },
      { path: '/api/reports/*', priority: 'background' },
      { path: '/api/jobs', method: 'POST', priority: 'low' },
    ],
    retryAfter: 5,
    exposeStatusRoute: '/memshed/status',
  });
  // #endregion shedding

  const server = createServer(createApp({ shedder, registry, items, jobs }));
  server.listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${address}:${port}`,
    server,
    memshed,
    shedder,
    registry,
    items,
    jobs,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await memshed.stop({ grace: 0 });
        shedder.close();
        metrics.close();
        await jobs.stop();
      })();
      return closing;
    },
  };
}
