import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoadShedder, isLoadShedder } from './load-shedder';
import type { LoadSheddingOptions, PressureStateSource } from './load-shedder-options';
import type { ShedDecision } from './load-shedder-status';
import type { RoutePriority } from './route-priority';

/**
 * Called instead of the default 503 for a shed request (as @fastify/under-pressure's
 * `pressureHandler`): answer the request (e.g. a cached page, a 429, a redirect), or leave it
 * unanswered to let it through. A handler that throws or rejects gets the default 503.
 */
export type NodePressureHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  decision: ShedDecision,
) => unknown;

/** Options of one node:http / Express middleware over an existing {@link LoadShedder}. */
export interface NodeAdapterOptions {
  /** Answers shed requests instead of the default 503. */
  readonly pressureHandler?: NodePressureHandler;
  /**
   * The priority of every request through this middleware, for route-level use:
   * `app.get('/reports', loadShedding(shedder, { priority: 'low' }), handler)`. Default: the
   * shedder's rules.
   */
  readonly priority?: RoutePriority;
}

/** Options of a node:http / Express middleware that creates its own {@link LoadShedder}. */
export interface NodeLoadSheddingOptions extends LoadSheddingOptions, NodeAdapterOptions {}

/**
 * A connect-style middleware (node:http, Express 5, Connect): `(req, res, next?)`. Without `next`
 * it returns whether it answered the request (shed, or the status route), so plain node:http code
 * can write `if (shedding(req, res)) return;`.
 */
export interface LoadSheddingMiddleware {
  (request: IncomingMessage, response: ServerResponse, next?: (error?: unknown) => void): boolean;
  /** The shedder deciding: its state, counters and status. */
  readonly shedder: LoadShedder;
}

/**
 * Load shedding for node:http and Express 5 (any connect-style stack): new requests get
 * `503 Service Unavailable` with `Retry-After` and a small JSON body while the pressure state is at
 * or above the level of their priority; requests already let through always complete.
 *
 * @example
 * // Express 5
 * app.use(loadShedding(memshed, {
 *   routes: [{ path: '/healthz', priority: 'essential' }, { path: '/reports/*', priority: 'low' }],
 *   exposeStatusRoute: '/memshed/status',
 * }));
 * @example
 * // node:http, by hand
 * const shed = loadShedding(memshed);
 * http.createServer((req, res) => { if (shed(req, res)) return; ... });
 */
export function loadShedding(shedder: LoadShedder, options?: NodeAdapterOptions): LoadSheddingMiddleware;
export function loadShedding(
  source: LoadShedder | PressureStateSource,
  options?: NodeLoadSheddingOptions,
): LoadSheddingMiddleware;
export function loadShedding(
  source: LoadShedder | PressureStateSource,
  options: NodeLoadSheddingOptions = {},
): LoadSheddingMiddleware {
  const shedder = isLoadShedder(source) ? source : new LoadShedder(source, options);
  const { pressureHandler, priority } = options;

  const middleware = (
    request: IncomingMessage,
    response: ServerResponse,
    next?: (error?: unknown) => void,
  ): boolean => {
    if (priority === undefined && shedder.isStatusRequest(request)) {
      sendJson(response, 200, shedder.status());
      return true;
    }
    let decision: ShedDecision;
    try {
      decision = shedder.admit(request, response, priority);
    } catch (error) {
      if (next) next(error);
      else sendJson(response, 500, { statusCode: 500, error: 'Internal Server Error' });
      return true;
    }
    if (!decision.shed) {
      next?.();
      return false;
    }
    if (!pressureHandler) {
      sendShed(response, shedder, decision);
      return true;
    }
    let handled: Promise<unknown>;
    try {
      handled = Promise.resolve(pressureHandler(request, response, decision));
    } catch (error) {
      handled = Promise.reject(error);
    }
    handled.then(
      () => {
        if (answered(response)) return;
        // Left unanswered: the handler lets the request through, as under-pressure's does (without
        // a next middleware there is nowhere to let it through to: it gets the 503).
        if (!next) {
          sendShed(response, shedder, decision);
          return;
        }
        shedder.track(response);
        next();
      },
      () => {
        if (!answered(response)) sendShed(response, shedder, decision);
      },
    );
    return true;
  };
  return Object.assign(middleware, { shedder });
}

/**
 * Wraps a node:http request listener: shed requests are answered before `listener` sees them.
 *
 * @example
 * const server = http.createServer(withLoadShedding(memshed, (req, res) => res.end('ok'), {
 *   routes: [{ path: '/healthz', priority: 'essential' }],
 * }));
 */
export function withLoadShedding(
  source: LoadShedder | PressureStateSource,
  listener: (request: IncomingMessage, response: ServerResponse) => void,
  options: NodeLoadSheddingOptions = {},
): ((request: IncomingMessage, response: ServerResponse) => void) & { readonly shedder: LoadShedder } {
  const middleware = loadShedding(source, options);
  const wrapped = (request: IncomingMessage, response: ServerResponse) => {
    middleware(request, response, (error?: unknown) => {
      if (error === undefined) listener(request, response);
      else if (!answered(response))
        sendJson(response, 500, { statusCode: 500, error: 'Internal Server Error' });
    });
  };
  return Object.assign(wrapped, { shedder: middleware.shedder });
}

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** Answers a shed request: 503, `Retry-After`, `Cache-Control: no-store` and the JSON body. */
export function sendShed(response: ServerResponse, shedder: LoadShedder, decision: ShedDecision): void {
  if (answered(response)) return;
  const body = shedder.serializedBody(decision);
  // A flat header list: no per-request header object to build (this is the path taken most under load).
  response.writeHead(503, [
    'Retry-After',
    String(decision.retryAfter),
    'Content-Type',
    JSON_CONTENT_TYPE,
    'Content-Length',
    String(body.length),
    'Cache-Control',
    'no-store',
  ]);
  response.end(body);
}

function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  response.writeHead(status, {
    'Content-Type': JSON_CONTENT_TYPE,
    'Content-Length': String(Buffer.byteLength(body)),
    // The live state must not be served from a cache.
    'Cache-Control': 'no-store',
  });
  response.end(body);
}

function answered(response: ServerResponse): boolean {
  return response.headersSent || response.writableEnded;
}
