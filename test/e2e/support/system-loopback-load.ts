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
  /** The request path, e.g. `/put`. */
  path: string;
  /** Requests per second, sent in 10 ms ticks. */
  rate: number;
  /** Stop sending after this many requests. */
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
}

/** A running load. */
export interface LoopbackLoad {
  /** The counts so far. */
  readonly summary: LoopbackLoadSummary;
  /** Stops sending and closes the connections. */
  stop(): LoopbackLoadSummary;
}

const TICK_MS = 10;

/** Starts sending `rate` requests per second to `http://127.0.0.1:port/path?n=<i>`. */
export function startLoopbackLoad(options: LoopbackLoadOptions): LoopbackLoad {
  const maxInFlight = options.maxInFlight ?? 64;
  const agent = new Agent({ keepAlive: true, maxSockets: 16 });
  const summary: LoopbackLoadSummary = { sent: 0, completed: 0, failed: 0, skipped: 0 };
  let inFlight = 0;
  let credit = 0;

  const send = () => {
    const n = summary.sent++;
    inFlight++;
    const req = request(
      { host: '127.0.0.1', port: options.port, path: `${options.path}?n=${n}`, agent },
      (response) => {
        response.resume();
        response.on('end', () => {
          inFlight--;
          summary.completed++;
        });
      },
    );
    req.on('error', () => {
      inFlight--;
      summary.failed++;
    });
    req.end();
  };

  const timer = setInterval(() => {
    credit += (options.rate * TICK_MS) / 1000;
    while (credit >= 1 && summary.sent < options.maxRequests) {
      credit--;
      if (inFlight >= maxInFlight) summary.skipped++;
      else send();
    }
    if (summary.sent >= options.maxRequests) clearInterval(timer);
  }, TICK_MS);

  return {
    summary,
    stop() {
      clearInterval(timer);
      agent.destroy();
      return { ...summary };
    },
  };
}
