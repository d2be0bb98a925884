import type { IncomingMessage } from 'node:http';
import {
  MemshedError,
  loopScheduler,
  stateRank,
  type ActionRunRecord,
  type PressureEvent,
  type PressureState,
} from '@memshed/core';
import type { ShedPriority } from '@memshed/shed-priority';
import type { SchedulerLike, Subscription } from 'rxjs';
import {
  checkRoutePriority,
  resolveSheddingLevels,
  type RoutePriority,
  type SheddingLevels,
} from './route-priority';
import { compileRouteRules, matchRoute, pathnameOf, type CompiledRouteRule } from './route-rules';
import {
  DEFAULT_RETRY_AFTER_SECONDS,
  DEFAULT_SHED_MESSAGE,
  checkRetryAfter,
  releaseRuleOf,
  statusRouteOf,
  type LoadSheddingOptions,
  type PressureStateSource,
  type ReleaseOptions,
} from './load-shedder-options';
import {
  StatusEventLog,
  type LoadShedderCounters,
  type LoadShedderStatus,
  type ShedBody,
  type ShedDecision,
} from './load-shedder-status';

/** The part of a response the shedder watches to count requests in flight. */
export interface ClosableResponse {
  once(event: 'close', listener: () => void): unknown;
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
  private readonly bodies = new Map<PressureState, Buffer>();
  private readonly eventLog: StatusEventLog;
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
    this.eventLog = new StatusEventLog(Math.max(0, Math.floor(options.statusEvents ?? 10)));
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
    if (source.events$ && (this.eventLog.limit > 0 || this.releaseRule)) {
      this.subscriptions.push(
        source.events$.subscribe((event) => {
          this.raiseCeiling(event);
          if (this.eventLog.limit > 0) this.eventLog.add(event);
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
      events: this.eventLog.snapshot(),
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
    // Normal needs no cap: follow level$ again. A rise while a release is in force is decided by
    // the event behind it (raiseCeiling): one the source saw before the release ended (delivered
    // late, after a collection held the event loop) describes memory the release gave back.
    if (state === 'normal') this.ceiling = undefined;
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
    // Events the source saw before the release ended describe the memory it gave back: bursts
    // delivered late, a level signalled just before a collection held the event loop.
    const seenAt = event.signalledAt ?? event.time;
    if (ceiling === undefined || !this.released || seenAt < this.released.at) return;
    if (stateRank(event.level) > stateRank(ceiling)) this.ceiling = event.level;
  }
}

/** Whether `value` is a {@link LoadShedder} (adapters take a shedder or something to follow). */
export function isLoadShedder(value: unknown): value is LoadShedder {
  return value instanceof LoadShedder;
}
