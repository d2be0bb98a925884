import type { IncomingMessage } from 'node:http';
import { MemshedError, loopScheduler, stateRank, type ActionRunRecord, type PressureEvent, type PressureLevel, type PressureState } from '@memshed/core';
import type { ShedPriority } from '@memshed/shed-priority';
import type { Observable, SchedulerLike, Subscription } from 'rxjs';
import {
  checkRoutePriority,
  resolveSheddingLevels,
  type RoutePriority,
  type SheddingLevels,
} from './route-priority';
import {
  compileRouteRules,
  matchRoute,
  pathnameOf,
  type CompiledRouteRule,
  type RouteRule,
} from './route-rules';

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

/** A release the shedder acted on, as the status route shows it. */
export interface ShedderRelease {
  /** When the action run that released memory ended (the clock's milliseconds). */
  readonly at: number;
  /** The action's step name, e.g. `gc`. */
  readonly action: string;
  /** The bytes it reported freed. */
  readonly freedBytes: number;
  /**
   * The state requests are decided by since then: `normal`, or the highest level of the pressure
   * events that came after the release.
   */
  readonly shedding: PressureState;
}

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
   * enough is followed by events: shedding resumes at their level); when `level$` rises or reaches
   * `normal`, the shedder follows it again.
   *
   * Counts: an action run on the source's `actions$` that ended `ok`, not in dry run, reporting at
   * least `minBytes` freed (measured, unless `estimated`). Needs the source's `actions$` and
   * `events$` (a running memshed has both); without them the shedder follows `level$` only.
   * `false` follows `level$` only. Default `{ minBytes: 1 MiB, estimated: false }`.
   */
  readonly release?: boolean | ReleaseOptions;
}

/** What the shedder decided for one request. */
export interface ShedDecision {
  /** Whether the request is shed (answered 503) rather than served. */
  readonly shed: boolean;
  /** The pressure state when it was decided. */
  readonly state: PressureState;
  /** The request's priority. */
  readonly priority: RoutePriority;
  /** The level at which requests of this priority are shed; undefined when never. */
  readonly threshold: PressureLevel | undefined;
  /** The `Retry-After` to send, in seconds. */
  readonly retryAfter: number;
}

/** Requests decided since the shedder was created. */
export interface LoadShedderCounters {
  /** Requests let through. */
  readonly accepted: number;
  /** Requests decided to be shed (answered 503, or handed to a pressure handler). */
  readonly shed: number;
  /** Requests let through whose response has not finished yet. */
  readonly inFlight: number;
  /** Shed requests by priority. */
  readonly shedByPriority: Readonly<Record<ShedPriority, number>>;
}

/**
 * A run of identical pressure events (same level, scope and source) in the status route: bursts
 * of kernel events show as one line with a count.
 */
export interface StatusEvent {
  readonly level: PressureLevel;
  readonly scope: string;
  readonly source: string;
  /** The time of the first event of the run. */
  readonly first: number;
  /** The time of the last event of the run. */
  readonly time: number;
  /** How many events the run holds. */
  readonly count: number;
}

/** The body of the status route: the state and the counters, nothing else. */
export interface LoadShedderStatus {
  /** The current pressure state. */
  readonly level: PressureState;
  /** When the shedder saw that state begin (the clock's milliseconds). */
  readonly since: number;
  /** The last runs of events, oldest first. */
  readonly events: readonly StatusEvent[];
  /** Requests decided. */
  readonly counters: LoadShedderCounters;
  /** Present while a release decides requests below `level` (see {@link LoadSheddingOptions.release}). */
  readonly release?: ShedderRelease;
}

/** The JSON body of a shed request. */
export interface ShedBody {
  readonly statusCode: 503;
  readonly error: 'Service Unavailable';
  readonly message: string;
  /** The pressure state that made the server shed the request. */
  readonly level: PressureState;
}

/** The part of a response the shedder watches to count requests in flight. */
export interface ClosableResponse {
  once(event: 'close', listener: () => void): unknown;
}

interface MutableEvent {
  level: PressureLevel;
  scope: string;
  source: string;
  first: number;
  time: number;
  count: number;
}

// The decision of a request, kept on it so that a route guard can decide it again.
const DECIDED = Symbol('memshed.shedDecision');

/**
 * The core shared by every HTTP adapter: follows the pressure state and decides, per request,
 * whether it is served or shed.
 *
 * - A request is shed when the state is at or above the level of its priority; `essential`
 *   requests (and the status route) never are.
 * - Only new requests are decided: a request let through always completes, whatever the state
 *   becomes while it runs.
 * - Once an action reports memory released, the shedder stops shedding without waiting for
 *   `level$` to step down, and shedding resumes with the next pressure event (option `release`).
 * - When the source's `level$` completes (memshed stopped), the shedder stops shedding.
 *
 * One shedder can serve several adapters (e.g. a node:http server and a Koa app) and keeps one
 * set of counters.
 *
 * @example
 * const shedder = new LoadShedder(memshed, {
 *   routes: [{ path: '/healthz', priority: 'essential' }, { path: '/reports/*', priority: 'low' }],
 *   exposeStatusRoute: '/memshed/status',
 * });
 * app.use(loadShedding(shedder));
 */
export class LoadShedder {
  /** The level at which each priority is shed. */
  readonly levels: SheddingLevels;
  /** The `Retry-After` of shed requests, in seconds. */
  readonly retryAfter: number;
  /** The path of the status route, when exposed. */
  readonly statusRoute: string | undefined;

  private current: PressureState = 'normal';
  /** After a release: the highest state requests are decided by (see `release`); else undefined. */
  private ceiling: PressureState | undefined;
  private released: { at: number; action: string; freedBytes: number } | undefined;
  private readonly releaseRule: Required<ReleaseOptions> | undefined;
  private enteredAt: number;
  private accepted = 0;
  private shedCount = 0;
  private inFlight = 0;
  private readonly shedByPriority: Record<ShedPriority, number> = {
    background: 0,
    low: 0,
    normal: 0,
    high: 0,
  };
  private readonly events: MutableEvent[] = [];
  private readonly bodies = new Map<PressureState, Buffer>();
  private readonly eventLimit: number;
  private readonly rules: readonly CompiledRouteRule[];
  private readonly classify: LoadSheddingOptions['classify'];
  private readonly defaultPriority: RoutePriority;
  private readonly message: string;
  private readonly scheduler: SchedulerLike;
  private readonly subscriptions: Subscription[] = [];
  private closed = false;

  /**
   * @throws MemshedError `invalid-argument` for options that cannot work (unknown priority or
   * level, a non-positive `retryAfter`, a status route that is not a path).
   */
  constructor(source: PressureStateSource, options: LoadSheddingOptions = {}) {
    if (!source || typeof source.level$?.subscribe !== 'function') {
      throw new MemshedError('invalid-argument', 'LoadShedder needs something with a level$ to follow', {
        fix: 'pass the running memshed (createMemshed() or createMemshedFromConfig()) or its monitor',
      });
    }
    this.levels = resolveSheddingLevels(options.level, options.levels);
    this.rules = compileRouteRules(options.routes ?? []);
    this.classify = options.classify;
    this.defaultPriority = checkRoutePriority(options.defaultPriority ?? 'normal', 'defaultPriority');
    this.retryAfter = checkRetryAfter(options.retryAfter ?? DEFAULT_RETRY_AFTER_SECONDS);
    this.message = options.message ?? DEFAULT_SHED_MESSAGE;
    this.statusRoute = statusRouteOf(options.exposeStatusRoute);
    this.eventLimit = Math.max(0, Math.floor(options.statusEvents ?? 10));
    this.scheduler = options.scheduler ?? source.engine?.scheduler ?? loopScheduler;
    this.enteredAt = this.scheduler.now();
    // Without events after a release, nothing could tell the shedder that pressure came back.
    const releaseRule = releaseRuleOf(options.release ?? true);
    this.releaseRule = source.actions$ && source.events$ ? releaseRule : undefined;

    this.subscriptions.push(
      source.level$.subscribe({
        next: (state) => this.enter(state),
        // Nothing watches pressure any more: serve everything rather than shed forever.
        complete: () => this.enter('normal'),
        error: () => this.enter('normal'),
      }),
    );
    if (source.events$ && (this.eventLimit > 0 || this.releaseRule)) {
      this.subscriptions.push(
        source.events$.subscribe((event) => {
          this.raiseCeiling(event);
          if (this.eventLimit > 0) this.remember(event);
        }),
      );
    }
    if (source.actions$ && this.releaseRule) {
      this.subscriptions.push(source.actions$.subscribe((record) => this.onAction(record)));
    }
  }

  /** The current pressure state. */
  get state(): PressureState {
    return this.current;
  }

  /**
   * The state requests are decided by: {@link state}, or lower after memory was released (see
   * {@link LoadSheddingOptions.release}).
   */
  get sheddingState(): PressureState {
    const ceiling = this.ceiling;
    return ceiling !== undefined && stateRank(ceiling) < stateRank(this.current) ? ceiling : this.current;
  }

  /** When the current state began, as far as this shedder saw (the clock's milliseconds). */
  get since(): number {
    return this.enteredAt;
  }

  /** The counters, as a snapshot. */
  get counters(): LoadShedderCounters {
    return {
      accepted: this.accepted,
      shed: this.shedCount,
      inFlight: this.inFlight,
      shedByPriority: { ...this.shedByPriority },
    };
  }

  /**
   * The priority of a request: `override` (a route's own setting), else `classify`, else the first
   * matching rule, else the default. Rules see the full path (Express's `originalUrl`).
   *
   * @throws MemshedError `invalid-argument` when `classify` throws or returns an unknown priority.
   */
  priorityOf(request: IncomingMessage, override?: RoutePriority): RoutePriority {
    if (override !== undefined) return checkRoutePriority(override, 'route priority');
    if (this.classify) {
      let classified: RoutePriority | undefined;
      try {
        classified = this.classify(request);
      } catch (error) {
        throw MemshedError.from(error, 'invalid-argument', 'The load shedder classify() option threw', {
          fix: 'make classify(request) return a route priority or undefined without throwing',
        });
      }
      if (classified !== undefined) return checkRoutePriority(classified, 'classify() result');
    }
    const url = (request as { originalUrl?: string }).originalUrl ?? request.url;
    return matchRoute(this.rules, request.method ?? 'GET', pathnameOf(url)) ?? this.defaultPriority;
  }

  /** Whether a request of `priority` would be shed now. Counts nothing. */
  decide(priority: RoutePriority): ShedDecision {
    const threshold = priority === 'essential' ? undefined : this.levels[priority];
    const level = threshold === 'never' ? undefined : threshold;
    return {
      shed: level !== undefined && stateRank(this.sheddingState) >= stateRank(level),
      state: this.current,
      priority,
      threshold: level,
      retryAfter: this.retryAfter,
    };
  }

  /**
   * Decides a request and counts it; a request let through is tracked in flight until its response
   * closes. Adapters call it once per request; a route-level guard may call it again with the
   * route's own priority: a request let through before and shed now moves from the accepted to the
   * shed counter (it is still counted in flight until its response closes).
   *
   * @throws MemshedError `invalid-argument` when `classify` fails (see {@link priorityOf}).
   */
  admit(request: IncomingMessage, response: ClosableResponse, override?: RoutePriority): ShedDecision {
    const marked = request as unknown as Record<symbol, ShedDecision | undefined>;
    const previous = marked[DECIDED];
    if (previous?.shed) return previous;
    const decision = this.decide(this.priorityOf(request, override));
    marked[DECIDED] = decision;
    if (decision.shed) {
      if (previous) this.accepted--;
      this.shedCount++;
      this.shedByPriority[decision.priority as ShedPriority]++;
    } else if (!previous) {
      this.accepted++;
      this.track(response);
    }
    return decision;
  }

  /** Counts `response` in flight until it closes (finished, or the connection went away). */
  track(response: ClosableResponse): void {
    this.inFlight++;
    response.once('close', () => {
      this.inFlight--;
    });
  }

  /** Whether `request` is for the status route (GET or HEAD at its path). */
  isStatusRequest(request: IncomingMessage): boolean {
    if (this.statusRoute === undefined) return false;
    const method = request.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') return false;
    const url = (request as { originalUrl?: string }).originalUrl ?? request.url;
    return pathnameOf(url) === this.statusRoute;
  }

  /** The status route's body: level, since, last events, counters. */
  status(): LoadShedderStatus {
    const released = this.ceiling !== undefined ? this.released : undefined;
    return {
      level: this.current,
      since: this.enteredAt,
      events: this.events.map((event) => ({ ...event })),
      counters: this.counters,
      ...(released ? { release: { ...released, shedding: this.sheddingState } } : {}),
    };
  }

  /** The JSON body of a shed request. */
  body(decision: ShedDecision): ShedBody {
    return { statusCode: 503, error: 'Service Unavailable', message: this.message, level: decision.state };
  }

  /**
   * The body of a shed request, serialised once per state: shedding must cost less than serving,
   * and under pressure most of what a server does is shedding.
   */
  serializedBody(decision: ShedDecision): Buffer {
    let body = this.bodies.get(decision.state);
    if (!body) {
      body = Buffer.from(JSON.stringify(this.body(decision)));
      this.bodies.set(decision.state, body);
    }
    return body;
  }

  /** Stops following the state (and stops shedding). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.enter('normal');
  }

  private enter(state: PressureState): void {
    if (state === this.current) return;
    // A rise is new pressure, and normal needs no cap: follow level$ again.
    if (state === 'normal' || stateRank(state) > stateRank(this.current)) this.ceiling = undefined;
    this.current = state;
    this.enteredAt = this.scheduler.now();
  }

  private onAction(record: ActionRunRecord): void {
    const rule = this.releaseRule;
    if (!rule || record.status !== 'ok' || record.dryRun) return;
    if ((record.freedBytes ?? 0) < rule.minBytes || (record.estimated === true && !rule.estimated)) return;
    // Nothing to stop shedding: a release at normal would only cap the next rise.
    if (this.sheddingState === 'normal') return;
    this.ceiling = 'normal';
    this.released = { at: record.finishedAt, action: record.name, freedBytes: record.freedBytes ?? 0 };
  }

  private raiseCeiling(event: PressureEvent): void {
    const ceiling = this.ceiling;
    // Events older than the release describe the memory it gave back (bursts are delivered late).
    if (ceiling === undefined || !this.released || event.time < this.released.at) return;
    if (stateRank(event.level) > stateRank(ceiling)) this.ceiling = event.level;
  }

  private remember(event: PressureEvent): void {
    const last = this.events[this.events.length - 1];
    if (last && last.level === event.level && last.scope === event.scope && last.source === event.source) {
      last.count++;
      last.time = event.time;
      return;
    }
    if (this.events.length === this.eventLimit) this.events.shift();
    this.events.push({
      level: event.level,
      scope: event.scope,
      source: event.source,
      first: event.time,
      time: event.time,
      count: 1,
    });
  }
}

/** Whether `value` is a {@link LoadShedder} (adapters take a shedder or something to follow). */
export function isLoadShedder(value: unknown): value is LoadShedder {
  return value instanceof LoadShedder;
}

function releaseRuleOf(option: boolean | ReleaseOptions): Required<ReleaseOptions> | undefined {
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

function checkRetryAfter(value: number): number {
  if (Number.isInteger(value) && value > 0) return value;
  throw new MemshedError(
    'invalid-argument',
    `retryAfter must be a whole number of seconds > 0, got ${value}`,
    {
      fix: 'write retryAfter: 10 (seconds, as the Retry-After header counts them)',
    },
  );
}

function statusRouteOf(option: LoadSheddingOptions['exposeStatusRoute']): string | undefined {
  if (option === undefined || option === false) return undefined;
  const url = option === true ? DEFAULT_STATUS_ROUTE : typeof option === 'string' ? option : option?.url;
  if (typeof url !== 'string' || !url.startsWith('/') || url.includes('?')) {
    throw new MemshedError('invalid-argument', `exposeStatusRoute: '${String(url)}' is not a path`, {
      fix: "write exposeStatusRoute: true (GET /status) or a path such as '/memshed/status'",
    });
  }
  return url;
}
