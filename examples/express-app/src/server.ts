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
import cgroupV1Module from '@memshed/source-cgroup-v1';
import psiModule from '@memshed/source-psi';
import systemModule from '@memshed/source-system';
import v8Module from '@memshed/source-v8';
import vmstatModule from '@memshed/source-vmstat';
import { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';
import { createApp } from './app';
import { ItemService, type ItemServiceOptions } from './item-service';
import { JobService } from './job-service';
import { underPressure, type UnderPressure, type UnderPressureOptions } from './under-pressure';

/** The example's directory: its .memshedrc.yaml and scenarios/ are there. */
export const EXAMPLE_DIR = join(__dirname, '..');

/**
 * What protects the API from running out of memory:
 *
 * - `memshed` (the default): the policy of .memshedrc.yaml and HTTP load shedding;
 * - `under-pressure`: @fastify/under-pressure's heap and RSS checks, sampled every second, for
 *   comparison (see under-pressure.ts);
 * - `none`: nothing.
 */
export type Guard = 'memshed' | 'under-pressure' | 'none';

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Port; 0 picks a free one. Default 3000. */
  readonly port?: number;
  /** Address. Default 127.0.0.1 (loopback only). */
  readonly host?: string;
  /** What protects the API. Default `memshed`. */
  readonly guard?: Guard;
  /** Replaces the config's sources (the simulator in tests and `--simulate`). Default: the config's. */
  readonly sources?: readonly PressureSource[];
  /**
   * Replaces the config's sources by plugin ids, with their default options (`--sources
   * vmstat`): to see what one source achieves alone. Default: the config's.
   */
  readonly sourceIds?: readonly string[];
  /** The item cache: payload size and kind (Buffers or JS strings), entries at most. */
  readonly items?: ItemServiceOptions;
  /**
   * Bytes of items to cache before anything else starts (memshed included, so that its sources
   * see a service that starts large, not one that grew fast): see {@link ItemService.prefill}.
   * Default 0.
   */
  readonly prefillBytes?: number;
  /** Thresholds of the `under-pressure` guard. */
  readonly underPressure?: UnderPressureOptions;
  /** memshed's clock (a ManualScheduler in tests). Default: the event loop. */
  readonly scheduler?: SchedulerLike;
  /** memshed's log. Default: silent. */
  readonly logger?: Logger;
}

/** The running example. */
export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  /** What protects it. */
  readonly guard: Guard;
  /** memshed, with the `memshed` guard. */
  readonly memshed: ConfiguredMemshed | undefined;
  /** The load shedder, with the `memshed` guard. */
  readonly shedder: LoadShedder | undefined;
  /** The heap and RSS checks, with the `under-pressure` guard. */
  readonly underPressure: UnderPressure | undefined;
  readonly registry: Registry;
  readonly items: ItemService;
  readonly jobs: JobService;
  /** Stops taking requests, stops memshed (policies, then sources), stops the jobs. */
  close(): Promise<void>;
}

/** memshed, its HTTP load shedding and its metrics, around the API's services. */
interface Protection {
  readonly memshed: ConfiguredMemshed;
  readonly shedder: LoadShedder;
  close(): Promise<void>;
}

/**
 * Starts the API: with memshed (the policy from .memshedrc.yaml, HTTP shedding, /metrics) unless
 * `guard` says otherwise.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const guard = options.guard ?? 'memshed';
  const items = new ItemService(options.items);
  if (options.prefillBytes) items.prefill(options.prefillBytes);
  const jobs = new JobService();
  jobs.start();
  const registry = new Registry();
  const protection = guard === 'memshed' ? await protect(options, items, jobs, registry) : undefined;
  const checks = guard === 'under-pressure' ? underPressure(options.underPressure) : undefined;

  const server = createServer(
    createApp({
      shedder: protection?.shedder,
      guard: checks?.middleware,
      registry,
      items,
      jobs,
    }),
  );
  server.listen(options.port ?? 3000, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${address}:${port}`,
    server,
    guard,
    memshed: protection?.memshed,
    shedder: protection?.shedder,
    underPressure: checks,
    registry,
    items,
    jobs,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await protection?.close();
        checks?.close();
        await jobs.stop();
      })();
      return closing;
    },
  };
}

async function protect(
  options: ServerOptions,
  items: ItemService,
  jobs: JobService,
  registry: Registry,
): Promise<Protection> {
  // #region memshed
  const config = await loadConfig({
    config: '.memshedrc.yaml',
    cwd: EXAMPLE_DIR,
    modules: [
      v8Module,
      systemModule,
      cgroupV1Module,
      psiModule,
      vmstatModule,
      cachePurgeModule,
      serviceShutdownModule,
      gcModule,
    ],
  });
  const memshed = await createMemshedFromConfig({
    loaded: config,
    // The simulator replaces the config's sources; or plugin ids, each alone with its defaults.
    sources: options.sources ? [] : options.sourceIds?.map((use) => ({ use })),
    extraSources: options.sources,
    scheduler: options.scheduler,
    logger: options.logger,
  });

  memshed.container.get(CacheRegistry).register('items', items.cache, {
    priority: 'low',
    sizeOf: (item) => item?.payload.length,
  });
  memshed.container.get(ServiceRegistry).register('jobs', {
    priority: 'background',
    stop: (signal) => jobs.stop(signal),
    start: () => jobs.start(),
  });
  // #endregion memshed

  // #region metrics
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

  return {
    memshed,
    shedder,
    async close() {
      await memshed.stop({ grace: 0 });
      shedder.close();
      metrics.close();
    },
  };
}
