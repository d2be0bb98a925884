import { getHeapStatistics } from 'node:v8';
import type { RequestHandler } from 'express';

/** Options of {@link underPressure}: @fastify/under-pressure's memory options, same names. */
export interface UnderPressureOptions {
  /** Shed while the V8 heap used is above this. Default: 60% of V8's heap limit. */
  readonly maxHeapUsedBytes?: number;
  /** Shed while the RSS is above this. Default: 80% of the container's limit, when there is one. */
  readonly maxRssBytes?: number;
  /** How often the process is sampled, in ms. Default 1000 (as in @fastify/under-pressure). */
  readonly sampleInterval?: number;
  /** The `Retry-After` of shed requests, in seconds. Default 10. */
  readonly retryAfter?: number;
}

/** The running check: the middleware and a way to stop sampling. */
export interface UnderPressure {
  readonly middleware: RequestHandler;
  /** The thresholds in use. */
  readonly thresholds: { readonly maxHeapUsedBytes: number; readonly maxRssBytes: number | undefined };
  /** Requests refused so far. */
  readonly shed: () => number;
  close(): void;
}

/**
 * The comparison the example offers (`--guard under-pressure`): what @fastify/under-pressure does
 * for Fastify, as Express middleware — sample `process.memoryUsage()` every `sampleInterval` and
 * answer every request 503 + `Retry-After` while the heap used or the RSS of the last sample is
 * above its threshold. The heap and RSS checks follow the plugin's own code (index.js,
 * `updateMemoryUsage` and `isUnderPressure`); its event-loop checks are left out (memory is what
 * is compared). It does not free anything: it only refuses traffic until the process shrinks by
 * itself.
 */
export function underPressure(options: UnderPressureOptions = {}): UnderPressure {
  const limit = process.constrainedMemory?.() ?? 0;
  const maxHeapUsedBytes = options.maxHeapUsedBytes ?? Math.round(0.6 * getHeapStatistics().heap_size_limit);
  // constrainedMemory() is 0, or a huge number, when there is no container limit.
  const maxRssBytes =
    options.maxRssBytes ?? (limit > 0 && limit < 2 ** 50 ? Math.round(0.8 * limit) : undefined);
  const retryAfter = String(options.retryAfter ?? 10);
  let heapUsed = 0;
  let rss = 0;
  let shed = 0;
  const timer = setInterval(() => {
    ({ heapUsed, rss } = process.memoryUsage());
  }, options.sampleInterval ?? 1000);
  timer.unref();
  const pressured = () => heapUsed > maxHeapUsedBytes || (maxRssBytes !== undefined && rss > maxRssBytes);
  return {
    middleware: (_req, res, next) => {
      if (!pressured()) {
        next();
        return;
      }
      shed++;
      res.status(503).set('Retry-After', retryAfter).json({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'Service Unavailable',
      });
    },
    thresholds: { maxHeapUsedBytes, maxRssBytes },
    shed: () => shed,
    close: () => clearInterval(timer),
  };
}
