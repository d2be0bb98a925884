import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import cachePurgeModule, { CacheRegistry } from '@memshed/action-cache-purge';
import gcModule from '@memshed/action-gc';
import { createMemshedFromConfig, loadConfig, type ConfiguredMemshed } from '@memshed/config';
import type { Logger, PressureSource } from '@memshed/core';
import {
  LoadShedder,
  Readiness,
  readinessProbes,
  withLoadShedding,
  type ReadinessOptions,
} from '@memshed/http';
import { mountMetrics } from '@memshed/prometheus';
import psiModule from '@memshed/source-psi';
import systemModule from '@memshed/source-system';
import v8Module from '@memshed/source-v8';
import { LRUCache } from 'lru-cache';
import { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';

/** Where the Deployment mounts the ConfigMap's `.memshedrc.yaml` (read-only). */
export const DEFAULT_CONFIG_FILE = '/etc/memshed/.memshedrc.yaml';

/** The container port of the Deployment and the Service's target port. */
export const DEFAULT_PORT = 8080;

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** Port; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Address. Default 127.0.0.1; the container listens on 0.0.0.0 (main.ts reads $HOST). */
  readonly host?: string;
  /** memshed's config file. Default /etc/memshed/.memshedrc.yaml (the mounted ConfigMap). */
  readonly configFile?: string;
  /** Replaces the config's sources (a fake source in tests). Default: the config's. */
  readonly sources?: readonly PressureSource[];
  /** Readiness hold, recovery and paths. Default: `@memshed/http`'s (2 s, 10 s, /readyz, /livez). */
  readonly readiness?: ReadinessOptions;
  /** Bytes cached per item. Default 16 KiB. */
  readonly itemBytes?: number;
  /** memshed's clock (a ManualScheduler in tests). Default: the event loop. */
  readonly scheduler?: SchedulerLike;
  /** memshed's log. Default: silent. */
  readonly logger?: Logger;
}

/** The running service. */
export interface RunningServer {
  readonly url: string;
  readonly server: Server;
  readonly memshed: ConfiguredMemshed;
  readonly readiness: Readiness;
  readonly shedder: LoadShedder;
  readonly registry: Registry;
  /** The item cache memshed purges under pressure. */
  readonly items: LRUCache<string, Buffer>;
  /** Stops taking requests, then stops memshed. */
  close(): Promise<void>;
}

/**
 * The service the manifests run: `GET /api/items/:id` renders an item and caches it (the memory
 * that grows with traffic, and that memshed's policy purges), behind memshed's probes, load
 * shedding and metrics:
 *
 * - `GET /readyz`: 503 after critical pressure held 2 s, 200 again after 10 s below medium;
 * - `GET /livez`: always 200 while the process answers;
 * - `GET /metrics`: memshed's metrics and the process's (essential: never shed);
 * - `GET /memshed/status`: the load shedder's state.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  // #region memshed
  const config = await loadConfig({
    config: options.configFile ?? DEFAULT_CONFIG_FILE,
    modules: [v8Module, systemModule, psiModule, cachePurgeModule, gcModule],
  });
  const memshed = await createMemshedFromConfig({
    loaded: config,
    sources: options.sources ? [] : undefined,
    extraSources: options.sources,
    scheduler: options.scheduler,
    logger: options.logger,
  });
  // #endregion memshed

  const items = new LRUCache<string, Buffer>({ max: 50_000 });
  memshed.container.get(CacheRegistry).register('items', items, {
    priority: 'low',
    sizeOf: (item) => item?.length,
  });
  const itemBytes = options.itemBytes ?? 16 * 1024;

  const registry = new Registry();
  const metrics = mountMetrics(memshed, { registry });

  // #region probes
  const readiness = new Readiness(memshed, options.readiness);
  const probes = readinessProbes(readiness);
  const shedder = new LoadShedder(memshed, {
    // The probes first: a shed liveness probe would have the kubelet restart the pod.
    routes: [...readiness.routes, { path: '/metrics', priority: 'essential' }],
    exposeStatusRoute: '/memshed/status',
    retryAfter: 5,
  });
  // #endregion probes

  const server = createServer(
    withLoadShedding(shedder, (request, response) => {
      if (probes(request, response)) return;
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (request.method === 'GET' && path === '/metrics') {
        void registry.metrics().then((text) => {
          response.writeHead(200, { 'Content-Type': registry.contentType });
          response.end(text);
        });
        return;
      }
      const item = /^\/api\/items\/([\w-]{1,64})$/.exec(path);
      if (request.method === 'GET' && item) {
        const payload = items.get(item[1]) ?? render(items, item[1], itemBytes);
        const digest = createHash('sha256').update(payload).digest('hex');
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ id: item[1], digest, bytes: payload.length }));
        return;
      }
      response.writeHead(404, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ error: 'not found' }));
    }),
  );
  server.listen(options.port ?? DEFAULT_PORT, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host}:${port}`,
    server,
    memshed,
    readiness,
    shedder,
    registry,
    items,
    close() {
      closing ??= (async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await memshed.stop({ grace: 0 });
        readiness.close();
        shedder.close();
        metrics.close();
      })();
      return closing;
    },
  };
}

function render(items: LRUCache<string, Buffer>, id: string, bytes: number): Buffer {
  const payload = Buffer.alloc(bytes, id);
  items.set(id, payload);
  return payload;
}
