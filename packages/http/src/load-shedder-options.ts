import type { IncomingMessage } from 'node:http';
import {
  MemshedError,
  type ActionRunRecord,
  type PressureEvent,
  type PressureLevel,
  type PressureState,
} from '@memshed/core';
import type { ShedPriority } from '@memshed/shed-priority';
import type { Observable, SchedulerLike } from 'rxjs';
import type { RoutePriority } from './route-priority';
import type { RouteRule } from './route-rules';

// The load shedder's options: what it follows, what it takes, their defaults and their checks.

/**
 * What a {@link LoadShedder} follows: a running memshed, its monitor, or any monitor of a scope
 * (`new PressureMonitor(memshed.engine, { scope: '/app' })`).
 */
export interface PressureStateSource {
  /** The pressure state, replaying the latest (memshed's `level$`). */
  readonly level$: Observable<PressureState>;
  /** Every pressure event, for the status route's last events. Optional. */
  readonly events$?: Observable<PressureEvent>;
  /** The engine, whose scheduler gives the time of `since`. Optional. */
  readonly engine?: { readonly scheduler: SchedulerLike };
  /**
   * Every action run (memshed's `actions$`): a run that released memory ends shedding before
   * `level$` steps down (see {@link LoadSheddingOptions.release}). Optional.
   */
  readonly actions$?: Observable<ActionRunRecord>;
}

/**
 * When a {@link LoadShedder} counts memory as released (see {@link LoadSheddingOptions.release}).
 */
export interface ReleaseOptions {
  /** Bytes an action run must report freed. Default 1 MiB ({@link DEFAULT_RELEASE_MIN_BYTES}). */
  readonly minBytes?: number;
  /**
   * Whether estimates count too (cache-purge's entry sizes, which the process may not have given
   * back yet), not only measurements (gc's RSS returned). Default false.
   */
  readonly estimated?: boolean;
}

/** Default {@link ReleaseOptions.minBytes}: 1 MiB. */
export const DEFAULT_RELEASE_MIN_BYTES = 1024 * 1024;

/** Default `Retry-After`, in seconds: the same as @fastify/under-pressure's. */
export const DEFAULT_RETRY_AFTER_SECONDS = 10;

/** Default path of the status route when `exposeStatusRoute` is `true` (as in @fastify/under-pressure). */
export const DEFAULT_STATUS_ROUTE = '/status';

/** Default body message of a shed request. */
export const DEFAULT_SHED_MESSAGE = 'Service Unavailable: the server is shedding load under memory pressure';

/** Options shared by every adapter (node:http, Express, Koa, Fastify). */
export interface LoadSheddingOptions {
  /**
   * Shed every route that is not essential while the state is at or above this level; lower
   * priorities are shed earlier (see {@link levels}). Default `critical`.
   */
  readonly level?: PressureLevel;
  /**
   * The level at which each priority is shed, or `never`. Default: `background` at `low`, `low` at
   * `medium`, `normal` and `high` at `critical`, each capped at {@link level}.
   */
  readonly levels?: Partial<Record<ShedPriority, PressureLevel | 'never'>>;
  /** Priorities by path and method; the first match wins. */
  readonly routes?: readonly RouteRule[];
  /**
   * Decides a request's priority from the request itself (a header, the user); `undefined` falls
   * back to {@link routes}. Runs for every request: keep it cheap.
   */
  readonly classify?: (request: IncomingMessage) => RoutePriority | undefined;
  /** The priority of requests nothing else classifies. Default `normal`. */
  readonly defaultPriority?: RoutePriority;
  /** The `Retry-After` header of shed requests, in seconds (as in @fastify/under-pressure). Default 10. */
  readonly retryAfter?: number;
  /** The `message` of the JSON body of shed requests. */
  readonly message?: string;
  /**
   * Serve the shedder's state (level, since, last events, counters) as JSON at `GET /status`
   * (`true`), at the given path, or `{ url }` (as in @fastify/under-pressure). The status route is
   * never shed. Default `false`.
   */
  readonly exposeStatusRoute?: boolean | string | { readonly url: string };
  /** How many (coalesced) events the status route shows. Default 10. */
  readonly statusEvents?: number;
  /** The clock of `since`. Default: the source's engine scheduler, else the wall clock. */
  readonly scheduler?: SchedulerLike;
  /**
   * Stop shedding as soon as an action reports memory actually released, rather than when `level$`
   * steps down: memshed's monitor holds a state for its quiet period (5 s by default) after the
   * last event, long after a purge and a collection have given the memory back, and shedding all
   * that time refuses traffic for nothing. After a release, requests are decided as if the state
   * were `normal`, raised again by every pressure event that comes after it (a release that was not
   * enough is followed by events: shedding resumes at their level); when `level$` reaches `normal`,
   * the shedder follows it again. Only events the source saw after the release ended count (their
   * `signalledAt`, else `time`): a level signalled just before a collection held the event loop
   * for 100 ms is delivered after it, and describes memory the collection gave back; a rise of
   * `level$` on such an event does not end the release either.
   *
   * Counts: an action run on the source's `actions$` that ended `ok`, not in dry run, reporting at
   * least `minBytes` freed (measured, unless `estimated`). Needs the source's `actions$` and
   * `events$` (a running memshed has both); without them the shedder follows `level$` only.
   * `false` follows `level$` only. Default `{ minBytes: 1 MiB, estimated: false }`.
   */
  readonly release?: boolean | ReleaseOptions;
}

/** The release rule `release` asks for, defaults applied; undefined for `release: false`. */
export function releaseRuleOf(option: boolean | ReleaseOptions): Required<ReleaseOptions> | undefined {
  if (option === false) return undefined;
  const rule = option === true ? {} : option;
  const minBytes = rule.minBytes ?? DEFAULT_RELEASE_MIN_BYTES;
  if (!Number.isFinite(minBytes) || minBytes < 0) {
    throw new MemshedError(
      'invalid-argument',
      `release.minBytes must be a number of bytes >= 0, got ${minBytes}`,
      {
        fix: 'write release: { minBytes: 1048576 } (1 MiB, the default), or release: false to follow level$ only',
      },
    );
  }
  return { minBytes, estimated: rule.estimated ?? false };
}

/** `retryAfter`, when it is a whole number of seconds > 0. */
export function checkRetryAfter(value: number): number {
  if (Number.isInteger(value) && value > 0) return value;
  throw new MemshedError(
    'invalid-argument',
    `retryAfter must be a whole number of seconds > 0, got ${value}`,
    {
      fix: 'write retryAfter: 10 (seconds, as the Retry-After header counts them)',
    },
  );
}

/** The status route's path `exposeStatusRoute` asks for, or undefined when it is not exposed. */
export function statusRouteOf(option: LoadSheddingOptions['exposeStatusRoute']): string | undefined {
  if (option === undefined || option === false) return undefined;
  const url = option === true ? DEFAULT_STATUS_ROUTE : typeof option === 'string' ? option : option?.url;
  if (typeof url !== 'string' || !url.startsWith('/') || url.includes('?')) {
    throw new MemshedError('invalid-argument', `exposeStatusRoute: '${String(url)}' is not a path`, {
      fix: "write exposeStatusRoute: true (GET /status) or a path such as '/memshed/status'",
    });
  }
  return url;
}
