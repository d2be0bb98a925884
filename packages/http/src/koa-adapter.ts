import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoadShedder, isLoadShedder } from './load-shedder';
import type { LoadSheddingOptions, PressureStateSource } from './load-shedder-options';
import type { ShedDecision } from './load-shedder-status';
import type { RoutePriority } from './route-priority';

/**
 * The part of a Koa context the middleware uses (Koa 2 and 3 contexts fit; no dependency on
 * koa's types).
 */
export interface KoaContextLike {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  status: number;
  body: unknown;
  set(field: string, value: string): void;
}

/**
 * Called instead of the default 503 for a shed request: set `ctx.body` (and `ctx.status`) to answer
 * it, or leave the body unset to let the request through. A handler that throws gets the default 503.
 */
export type KoaPressureHandler<C extends KoaContextLike = KoaContextLike> = (
  context: C,
  decision: ShedDecision,
) => unknown;

/** Options of a Koa middleware over an existing {@link LoadShedder}. */
export interface KoaAdapterOptions<C extends KoaContextLike = KoaContextLike> {
  /** Answers shed requests instead of the default 503. */
  readonly pressureHandler?: KoaPressureHandler<C>;
  /** The priority of every request through this middleware (for use on one router or route). */
  readonly priority?: RoutePriority;
}

/** Options of a Koa middleware that creates its own {@link LoadShedder}. */
export interface KoaLoadSheddingOptions<C extends KoaContextLike = KoaContextLike>
  extends LoadSheddingOptions, KoaAdapterOptions<C> {}

/** A Koa middleware, with the shedder it decides with. */
export interface KoaLoadSheddingMiddleware<C extends KoaContextLike = KoaContextLike> {
  (context: C, next: () => Promise<unknown>): Promise<void>;
  /** The shedder deciding: its state, counters and status. */
  readonly shedder: LoadShedder;
}

/**
 * Load shedding for Koa: shed requests get 503 with `Retry-After` and a small JSON body before any
 * later middleware runs; requests already let through always complete.
 *
 * @example
 * app.use(koaLoadShedding(memshed, { routes: [{ path: '/healthz', priority: 'essential' }] }));
 */
export function koaLoadShedding<C extends KoaContextLike = KoaContextLike>(
  source: LoadShedder | PressureStateSource,
  options: KoaLoadSheddingOptions<C> = {},
): KoaLoadSheddingMiddleware<C> {
  const shedder = isLoadShedder(source) ? source : new LoadShedder(source, options);
  const { pressureHandler, priority } = options;

  const middleware = async (context: C, next: () => Promise<unknown>): Promise<void> => {
    if (priority === undefined && shedder.isStatusRequest(context.req)) {
      context.status = 200;
      context.set('Cache-Control', 'no-store');
      context.body = shedder.status();
      return;
    }
    // A classify() failure throws here, into Koa's error handling (500).
    const decision = shedder.admit(context.req, context.res, priority);
    if (!decision.shed) {
      await next();
      return;
    }
    if (pressureHandler) {
      let failed = false;
      try {
        await pressureHandler(context, decision);
      } catch {
        failed = true;
      }
      if (!failed && context.body !== undefined && context.body !== null) return;
      if (!failed) {
        // Left unanswered: the handler lets the request through.
        shedder.track(context.res);
        await next();
        return;
      }
    }
    context.status = 503;
    context.set('Retry-After', String(decision.retryAfter));
    context.set('Cache-Control', 'no-store');
    context.set('Content-Type', 'application/json; charset=utf-8');
    context.body = shedder.serializedBody(decision);
  };
  return Object.assign(middleware, { shedder });
}
