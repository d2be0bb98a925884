/**
 * Bounded HTTP load on the loopback interface, for the system and v8 kernel tests: a fixed request
 * rate, a cap on requests in flight (a slow server is not buried) and on the total, keep-alive
 * connections. Only ever talks to 127.0.0.1.
 */
import { Agent, request } from 'node:http';

/** Options of {@link startLoopbackLoad}. */
export interface LoopbackLoadOptions {
  /** The port on 127.0.0.1. */
  port: number;
  /**
   * The request path: `{n}` in it is replaced by the request's number (`/api/items/{n}`), else
   * `?n=<number>` is appended (`/put` -> `/put?n=7`). A function gets the request's number and the
   * ms since the load started, and returns the whole path: a load whose requests change over time
   * (bursts).
   */
  path: string | ((n: number, elapsedMs: number) => string);
  /** Requests per second, sent in 10 ms ticks. */
  rate: number;
  /** Stop after this many requests (sent or skipped): the load lasts maxRequests / rate seconds. */
  maxRequests: number;
  /** Skip a send while this many requests are unanswered. Default 64. */
  maxInFlight?: number;
}

/** What the load did. */
export interface LoopbackLoadSummary {
  /** Requests sent. */
  sent: number;
  /** Responses received. */
  completed: number;
  /** Requests that failed (connection refused or reset: the server died). */
  failed: number;
  /** Sends skipped because too many requests were in flight. */
  skipped: number;
  /** Responses by status code, e.g. `{ 200: 7990, 503: 10 }`. */
  statuses: Record<number, number>;
}

/** Latency percentiles of the responses received, in ms (send to last byte). */
export interface LatencyPercentiles {
  p50: number;
  p99: number;
  max: number;
}

/** A running load. */
export interface LoopbackLoad {
  /** The counts so far. */
  readonly summary: LoopbackLoadSummary;
  /** Stops sending and closes the connections. */
  stop(): LoopbackLoadSummary;
  /** Latency percentiles of the responses with `status` (all when undefined); undefined if none. */
  latency(status?: number): LatencyPercentiles | undefined;
  /**
   * The responses by when their request was sent, in buckets of `bucketMs` from the load's start:
   * `[startMs, { status: count }]` per bucket that has any (when a run shed, and for how long).
   */
  timeline(bucketMs: number): [number, Record<number, number>][];
}

const TICK_MS = 10;

/** Starts sending `rate` requests per second to `http://127.0.0.1:port/path?n=<i>` (or `{n}` in path). */
export function startLoopbackLoad(options: LoopbackLoadOptions): LoopbackLoad {
  const maxInFlight = options.maxInFlight ?? 64;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const summary: LoopbackLoadSummary = { sent: 0, completed: 0, failed: 0, skipped: 0, statuses: {} };
  // One latency and status per response, preallocated: the load generator must not be what
  // allocates under test.
  const latencies = new Float64Array(options.maxRequests);
  const codes = new Uint16Array(options.maxRequests);
  const sentAt = new Float64Array(options.maxRequests);
  let inFlight = 0;
  let decided = 0; // requests sent or skipped so far

  const send = () => {
    const n = summary.sent++;
    inFlight++;
    const start = performance.now();
    const url =
      typeof options.path === 'function'
        ? options.path(n, start - began)
        : options.path.includes('{n}')
          ? options.path.replace('{n}', String(n))
          : `${options.path}?n=${n}`;
    const req = request({ host: '127.0.0.1', port: options.port, path: url, agent }, (response) => {
      response.resume();
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        latencies[summary.completed] = performance.now() - start;
        codes[summary.completed] = status;
        sentAt[summary.completed] = start - began;
        inFlight--;
        summary.completed++;
        summary.statuses[status] = (summary.statuses[status] ?? 0) + 1;
      });
    });
    req.on('error', () => {
      inFlight--;
      summary.failed++;
    });
    req.end();
  };

  const began = performance.now();
  const timer = setInterval(() => {
    // Due by the clock, not by ticks: a late tick (the event loop was busy) catches up.
    const due = Math.min(
      options.maxRequests,
      Math.floor((options.rate * (performance.now() - began)) / 1000),
    );
    while (decided < due) {
      decided++;
      if (inFlight >= maxInFlight) summary.skipped++;
      else send();
    }
    if (decided >= options.maxRequests) clearInterval(timer);
  }, TICK_MS);

  return {
    summary,
    stop() {
      clearInterval(timer);
      agent.destroy();
      return { ...summary, statuses: { ...summary.statuses } };
    },
    latency(status) {
      const picked: number[] = [];
      for (let i = 0; i < summary.completed; i++) {
        if (status === undefined || codes[i] === status) picked.push(latencies[i]);
      }
      if (picked.length === 0) return undefined;
      picked.sort((a, b) => a - b);
      const at = (q: number) => picked[Math.min(picked.length - 1, Math.ceil(q * picked.length) - 1)];
      return { p50: at(0.5), p99: at(0.99), max: picked[picked.length - 1] };
    },
    timeline(bucketMs) {
      const buckets = new Map<number, Record<number, number>>();
      for (let i = 0; i < summary.completed; i++) {
        const bucket = Math.floor(sentAt[i] / bucketMs) * bucketMs;
        const counts = buckets.get(bucket) ?? {};
        counts[codes[i]] = (counts[codes[i]] ?? 0) + 1;
        buckets.set(bucket, counts);
      }
      return [...buckets.entries()].sort(([a], [b]) => a - b);
    },
  };
}
