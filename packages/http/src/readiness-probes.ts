import type { IncomingMessage, ServerResponse } from 'node:http';
import type { PressureStateSource } from './load-shedder-options';
import type { KoaContextLike } from './koa-adapter';
import { Readiness, isReadiness, type ReadinessStatus } from './readiness';
import type { ReadinessOptions } from './readiness-options';
import { pathnameOf } from './route-rules';

/** The body of a liveness probe: the process answers, whatever memory does. */
export const LIVENESS_BODY = Object.freeze({ alive: true });

/**
 * A connect-style middleware (node:http, Express 5) serving the probes: `GET`/`HEAD` at the
 * readiness path (200 or 503 with a {@link ReadinessStatus}) and at the liveness path (always 200).
 * Other requests go to `next`; without `next` it returns whether it answered the request, so plain
 * node:http code can write `if (probes(req, res)) return;`.
 */
export interface ReadinessProbesMiddleware {
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): boolean;
  /** The readiness the probes answer from. */
  readonly readiness: Readiness;
}

/** Which probe `request` is for, if any. */
export function probeOf(
  readiness: Readiness,
  request: IncomingMessage,
): 'readiness' | 'liveness' | undefined {
  const method = request.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') return undefined;
  const url = (request as { originalUrl?: string }).originalUrl ?? request.url;
  const path = pathnameOf(url);
  if (path === readiness.options.readinessPath) return 'readiness';
  if (path === readiness.options.livenessPath) return 'liveness';
  return undefined;
}

/** The HTTP status of a readiness answer. */
export function probeStatusCode(status: ReadinessStatus): 200 | 503 {
  return status.ready ? 200 : 503;
}

/**
 * Kubernetes probes for node:http and Express 5. Mount it before the load shedder (or give the
 * shedder `readiness.routes` first in its `routes`): a probe must never be shed, or the kubelet
 * would restart a pod for being under pressure.
 *
 * @example
 * // Express 5
 * const readiness = new Readiness(memshed, { check: () => db.isConnected() });
 * app.use(readinessProbes(readiness));
 * app.use(loadShedding(memshed));
 * @example
 * // node:http
 * const probes = readinessProbes(memshed, { hold: '2s', recovery: '10s' });
 * http.createServer((req, res) => { if (probes(req, res)) return; ... });
 */
export function readinessProbes(
  source: Readiness | PressureStateSource,
  options: ReadinessOptions = {},
): ReadinessProbesMiddleware {
  const readiness = isReadiness(source) ? source : new Readiness(source, options);
  const middleware = (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ): boolean => {
    const probe = probeOf(readiness, request);
    if (probe === undefined) {
      next?.();
      return false;
    }
    if (probe === 'liveness') {
      sendProbe(response, 200, LIVENESS_BODY);
      return true;
    }
    void readiness.probe().then((status) => sendProbe(response, probeStatusCode(status), status));
    return true;
  };
  return Object.assign(middleware, { readiness });
}

/** A Koa middleware serving the probes (as {@link readinessProbes}); other requests go on. */
export interface KoaReadinessProbesMiddleware<C extends KoaContextLike = KoaContextLike> {
  (context: C, next: () => Promise<unknown>): Promise<void>;
  /** The readiness the probes answer from. */
  readonly readiness: Readiness;
}

/**
 * Kubernetes probes for Koa. Mount it before `koaLoadShedding` (or give the shedder
 * `readiness.routes` first in its `routes`), so that probes are never shed.
 *
 * @example
 * app.use(koaReadinessProbes(memshed));
 * app.use(koaLoadShedding(memshed));
 */
export function koaReadinessProbes<C extends KoaContextLike = KoaContextLike>(
  source: Readiness | PressureStateSource,
  options: ReadinessOptions = {},
): KoaReadinessProbesMiddleware<C> {
  const readiness = isReadiness(source) ? source : new Readiness(source, options);
  const middleware = async (context: C, next: () => Promise<unknown>): Promise<void> => {
    const probe = probeOf(readiness, context.req);
    if (probe === undefined) {
      await next();
      return;
    }
    const status = probe === 'liveness' ? undefined : await readiness.probe();
    context.status = status ? probeStatusCode(status) : 200;
    context.set('Cache-Control', 'no-store');
    context.body = status ?? LIVENESS_BODY;
  };
  return Object.assign(middleware, { readiness });
}

function sendProbe(response: ServerResponse, status: number, value: unknown): void {
  // The client may be gone (the kubelet's timeout) by the time check() answered.
  if (response.headersSent || response.writableEnded || response.destroyed) return;
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    // A probe's answer is of this moment only.
    'Cache-Control': 'no-store',
  });
  response.end(body);
}
