import type { PressureEvent, PressureLevel, PressureState } from '@memshed/core';
import type { ShedPriority } from '@memshed/shed-priority';
import type { RoutePriority } from './route-priority';

// What the load shedder hands out: its decisions, its counters and the status route's body.

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

interface MutableEvent {
  level: PressureLevel;
  scope: string;
  source: string;
  first: number;
  time: number;
  count: number;
}

/**
 * The last `limit` pressure events for the status route, a run of equal ones (same level, scope
 * and source) folded into one entry with a count, so that a burst of kernel events takes one line.
 */
export class StatusEventLog {
  private readonly events: MutableEvent[] = [];

  constructor(
    /** How many entries are kept; 0 keeps none. */
    readonly limit: number,
  ) {}

  /** Adds `event`, folding it into the last entry when it repeats it. */
  add(event: PressureEvent): void {
    const last = this.events[this.events.length - 1];
    if (last && last.level === event.level && last.scope === event.scope && last.source === event.source) {
      last.count++;
      last.time = event.time;
      return;
    }
    if (this.limit === 0) return;
    if (this.events.length === this.limit) this.events.shift();
    this.events.push({
      level: event.level,
      scope: event.scope,
      source: event.source,
      first: event.time,
      time: event.time,
      count: 1,
    });
  }

  /** The entries, oldest first, as copies. */
  snapshot(): StatusEvent[] {
    return this.events.map((event) => ({ ...event }));
  }
}
