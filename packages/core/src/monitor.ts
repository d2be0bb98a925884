import type { SchedulerLike } from 'rxjs';
import { BehaviorSubject, Observable, Subject, Subscription, distinctUntilChanged } from './rx';
import type { PressureEngine, PressureEvent } from './engine';
import type { ActionRunRecord } from './runner/action-run-record';
import { MemshedError } from './errors';
import {
  levelIndex,
  PRESSURE_STATES,
  stateRank,
  type PressureLevel,
  type PressureMode,
  type PressureState,
} from './levels';

/** Default quiet period before the monitor steps down one state: 5 s. */
export const DEFAULT_QUIET_MS = 5000;

/** Options of {@link PressureMonitor}. */
export interface MonitorOptions {
  /** The scope whose events drive `level$` (every event at or below it). Default `/`. */
  scope?: string;
  /**
   * Milliseconds without an event at or above the current level before `level$` steps down one
   * state (critical -> medium -> low -> normal, each step taking its own quiet period). Default 5000.
   */
  quiet?: number;
}

/** Options of {@link PressureMonitor.listen}. */
export interface ListenOptions {
  /** The node to listen on. Default `/`. */
  scope?: string;
  /** The propagation mode. Default `default`. */
  mode?: PressureMode;
}

/**
 * The reactive face of memshed: every pressure event, the current pressure state with recovery
 * to `normal`, scoped listeners and the errors of plugins.
 */
export class PressureMonitor {
  /** Every event of every node (a `hierarchy` listener at the root, at level low). */
  readonly events$: Observable<PressureEvent>;
  /**
   * The current state: replays the latest to late subscribers, rises at once with events, steps
   * down one state after each quiet period, and never emits the same state twice in a row.
   */
  readonly level$: Observable<PressureState>;
  /**
   * Failures of sources and actions: they never throw into the host application. Standing
   * failures (a source that is not running: unavailable here, or failed to start) are replayed to
   * every subscriber, however late it subscribes; other failures are delivered as they happen.
   */
  readonly errors$: Observable<MemshedError>;
  /** A record of every shedding action run (what ran, why, what it freed), from the action runner. */
  readonly actions$: Observable<ActionRunRecord>;

  private readonly events = new Subject<PressureEvent>();
  private readonly errors = new Subject<MemshedError>();
  private readonly standing: MemshedError[] = [];
  private readonly actions = new Subject<ActionRunRecord>();
  private readonly states = new BehaviorSubject<PressureState>('normal');
  private readonly subscription = new Subscription();
  private readonly scheduler: SchedulerLike;
  private readonly quiet: number;
  /** lastAt[i]: time of the last event at level index i or above. */
  private readonly lastAt = [-Infinity, -Infinity, -Infinity];
  private enteredAt = -Infinity;
  private stepTimer: Subscription | undefined;

  constructor(
    /** The engine whose events this monitor follows. */
    readonly engine: PressureEngine,
    options: MonitorOptions = {},
  ) {
    this.scheduler = engine.scheduler;
    this.quiet = options.quiet ?? DEFAULT_QUIET_MS;
    if (!(this.quiet >= 0) || !Number.isFinite(this.quiet)) {
      throw new MemshedError(
        'invalid-argument',
        `Monitor quiet period must be a finite number of ms >= 0, got ${this.quiet}`,
      );
    }

    this.events$ = this.events.asObservable();
    // Replay, then follow: both happen in the subscribe call, so nothing reported can fall between.
    this.errors$ = new Observable<MemshedError>((subscriber) => {
      for (const error of this.standing) subscriber.next(error);
      return this.errors.subscribe(subscriber);
    });
    this.actions$ = this.actions.asObservable();
    this.level$ = this.states.pipe(distinctUntilChanged());

    const scope = options.scope ?? '/';
    this.subscription.add(
      engine
        .node('/')
        .listen('low', 'hierarchy')
        .subscribe((event) => this.events.next(event)),
    );
    const tracked = scope === '/' ? this.events$ : engine.node(scope).listen('low', 'hierarchy');
    this.subscription.add(tracked.subscribe((event) => this.track(event)));
  }

  /** The current state, synchronously. */
  get state(): PressureState {
    return this.states.value;
  }

  /**
   * Events at `level` and above on one node, with the kernel's propagation modes: the same as
   * `engine.node(scope).listen(level, mode)`.
   */
  listen(level: PressureLevel, options: ListenOptions = {}): Observable<PressureEvent> {
    return this.engine.node(options.scope ?? '/').listen(level, options.mode ?? 'default');
  }

  /**
   * Reports a plugin failure on `errors$`. Never throws. `standing`: the failure describes a state
   * that lasts (a source that is not running), so `errors$` replays it to later subscribers too.
   */
  reportError(error: MemshedError, options: { readonly standing?: boolean } = {}): void {
    if (options.standing) this.standing.push(error);
    this.errors.next(error);
  }

  /** Publishes an action run's record on `actions$`. */
  recordAction(record: ActionRunRecord): void {
    this.actions.next(record);
  }

  /** Stops following the engine and completes every stream. */
  dispose(): void {
    this.subscription.unsubscribe();
    this.stepTimer?.unsubscribe();
    this.stepTimer = undefined;
    this.events.complete();
    this.errors.complete();
    this.actions.complete();
    this.states.complete();
  }

  private track(event: PressureEvent): void {
    const now = this.scheduler.now();
    const index = levelIndex(event.level);
    for (let i = 0; i <= index; i++) this.lastAt[i] = now;
    if (stateRank(event.level) > stateRank(this.states.value)) {
      this.enteredAt = now;
      this.states.next(event.level);
    }
    this.armStepTimer();
  }

  private armStepTimer(): void {
    if (this.stepTimer || this.states.value === 'normal') return;
    this.stepTimer = this.scheduler.schedule(
      () => {
        this.stepTimer = undefined;
        this.step();
      },
      Math.max(0, this.deadline() - this.scheduler.now()),
    );
  }

  /** A state holds for `quiet` after the later of entering it and the last event at or above it. */
  private deadline(): number {
    const rank = stateRank(this.states.value);
    return Math.max(this.enteredAt, this.lastAt[rank - 1]) + this.quiet;
  }

  private step(): void {
    const now = this.scheduler.now();
    if (this.states.value === 'normal') return;
    if (now >= this.deadline()) {
      this.enteredAt = now;
      this.states.next(PRESSURE_STATES[stateRank(this.states.value) - 1]);
    }
    this.armStepTimer();
  }
}
