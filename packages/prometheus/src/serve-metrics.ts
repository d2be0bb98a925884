import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MemshedError } from '@memshed/core';
import { Registry } from 'prom-client';
import {
  mountMetrics,
  type MemshedMetrics,
  type MetricsSource,
  type MountMetricsOptions,
} from './mount-metrics';

/** Default port of {@link serveMetrics}: 9464, the Prometheus exporter port of OpenTelemetry SDKs. */
export const DEFAULT_METRICS_PORT = 9464;

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions extends MountMetricsOptions {
  /** The port; 0 picks a free one (see `port` on the result). Default 9464. */
  readonly port?: number;
  /**
   * The address to bind. Default `127.0.0.1`: only this machine can scrape. Bind another address
   * only on purpose (metrics tell an observer when the service struggles).
   */
  readonly host?: string;
  /** The path of the endpoint. Default `/metrics`. */
  readonly path?: string;
  /**
   * The registry to mount on and serve (with whatever else it holds). Default: a new registry with
   * only memshed's metrics.
   */
  readonly registry?: Registry;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The endpoint, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  /** The port bound (useful with port 0). */
  readonly port: number;
  /** The registry served. */
  readonly registry: Registry;
  /** memshed's metrics on it. */
  readonly metrics: MemshedMetrics;
  /** The node:http server. */
  readonly server: Server;
  /** Closes the server (and its connections) and unmounts the metrics. Idempotent. */
  close(): Promise<void>;
}

/**
 * A node:http request listener serving `registry` in the Prometheus text format at `path` (GET and
 * HEAD); anything else gets 404 or 405. For servers of your own.
 */
export function metricsRequestListener(
  registry: Registry,
  path = '/metrics',
): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const url = request.url ?? '/';
    const pathname = url.split('?', 1)[0];
    if (pathname !== path) {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not Found\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' }).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, {
          'Content-Type': registry.contentType,
          'Content-Length': String(Buffer.byteLength(text)),
          'Cache-Control': 'no-store',
        });
        response.end(text);
      },
      (error: unknown) => {
        response.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' });
        response.end(
          `Failed to collect metrics: ${error instanceof Error ? error.message : String(error)}\n`,
        );
      },
    );
  };
}

/**
 * Mounts memshed's metrics (see {@link mountMetrics}) and serves them at
 * `http://127.0.0.1:9464/metrics` (loopback by default). The server does not keep the process alive
 * by itself.
 *
 * @throws MemshedError `unavailable` when the address cannot be bound (port in use, bad host),
 * `invalid-argument` for a bad port or path.
 *
 * @example
 * const endpoint = await serveMetrics(memshed, { port: 9464 });
 * // scrape_configs: - targets: ['127.0.0.1:9464']
 * await endpoint.close();
 */
export async function serveMetrics(
  memshed: MetricsSource,
  options: ServeMetricsOptions = {},
): Promise<MetricsServer> {
  const port = options.port ?? DEFAULT_METRICS_PORT;
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/metrics';
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new MemshedError(
      'invalid-argument',
      `Metrics port must be an integer from 0 to 65535, got ${port}`,
      {
        fix: 'pass { port: 9464 }, or 0 for any free port',
      },
    );
  }
  if (!path.startsWith('/')) {
    throw new MemshedError('invalid-argument', `Metrics path '${path}' must start with '/'`, {
      fix: "pass { path: '/metrics' }",
    });
  }
  const registry = options.registry ?? new Registry();
  const metrics = mountMetrics(memshed, { ...options, registry });
  const server = createServer(metricsRequestListener(registry, path));
  try {
    server.listen(port, host);
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error as Error)),
    ]);
  } catch (error) {
    metrics.close();
    server.close();
    throw MemshedError.from(error, 'unavailable', `Cannot serve metrics on ${host}:${port}`, {
      fix: 'choose another port (or 0 for any free one) or host',
      context: { host, port },
    });
  }
  // Scraping memshed must never be what keeps the process running.
  server.unref();
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost}:${address.port}${path}`,
    port: address.port,
    registry,
    metrics,
    server,
    close() {
      closing ??= new Promise<void>((resolve) => {
        metrics.close();
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closing;
    },
  };
}
