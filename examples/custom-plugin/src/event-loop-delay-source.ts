import {
  MemshedError,
  PressureSourceFactory,
  parseDuration,
  type PressureLevel,
  type PressureNode,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import { injectable } from 'inversify';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Subscription } from 'rxjs';
import { z } from 'zod';

const duration = z.union([z.number(), z.string()]).transform((value, context) => {
  try {
    return parseDuration(value);
  } catch (error) {
    context.addIssue({ code: 'custom', message: MemshedError.is(error) ? error.message : String(error) });
    return z.NEVER;
  }
});

/**
 * Options of the `event-loop-delay` source (`with:` in config): the delay (at `percentile`, over
 * each `interval`) from which each level is signalled.
 */
export const eventLoopDelayOptionsSchema = z
  .strictObject({
    /** The engine node to signal. Default `/event-loop`. */
    scope: z.string().startsWith('/').default('/event-loop'),
    /** Optional: signal `low` from this delay. */
    low: duration.optional(),
    /** Signal `medium` from this delay. Default 100ms. */
    medium: duration.default(100),
    /** Signal `critical` from this delay. Default 500ms. */
    critical: duration.default(500),
    /** The percentile compared with the thresholds. Default 99. */
    percentile: z.number().gt(0).max(100).default(99),
    /** How often the histogram is read (and reset). Default 1s. */
    interval: duration.refine((ms) => ms > 0, 'must be longer than 0ms').default(1000),
    /** The histogram's sampling resolution in ms. Default 10. */
    resolution: z.int().min(1).max(1000).default(10),
  })
  .refine((o) => o.medium <= o.critical && (o.low === undefined || o.low <= o.medium), {
    message: 'thresholds must rise: low <= medium <= critical',
    path: ['critical'],
  });

/** Validated options of the `event-loop-delay` source. */
export type EventLoopDelayOptions = z.output<typeof eventLoopDelayOptionsSchema>;

/**
 * A source that maps event-loop stalls to pressure levels, as @fastify/under-pressure's
 * `maxEventLoopDelay` does for one threshold: a process whose heap is nearly full spends its time
 * in garbage collection, and its event loop stalls before it runs out of memory. Every `interval`
 * it reads the delay at `percentile` from `perf_hooks.monitorEventLoopDelay()` and signals the
 * level it reaches.
 *
 * Written against memshed's public API only: `PressureSource`, `PressureSink`, `signal()`.
 */
export class EventLoopDelaySource implements PressureSource {
  readonly id = 'event-loop-delay';
  /** The last delay read, in ms. */
  lastDelay = 0;
  private histogram: IntervalHistogram | undefined;
  private polling: Subscription | undefined;

  constructor(readonly options: EventLoopDelayOptions) {}

  availability(): SourceAvailability {
    return {
      available: true,
      detail: `event-loop delay p${this.options.percentile} every ${this.options.interval} ms`,
    };
  }

  start(sink: PressureSink): void {
    const histogram = monitorEventLoopDelay({ resolution: this.options.resolution });
    histogram.enable();
    this.histogram = histogram;
    const node: PressureNode = sink.node(this.options.scope);
    const { interval } = this.options;
    const poll = () => {
      try {
        // Nanoseconds; NaN before the first sample.
        const delay = histogram.percentile(this.options.percentile) / 1e6;
        histogram.reset();
        this.lastDelay = Number.isFinite(delay) ? delay : 0;
        const level = this.levelFor(this.lastDelay);
        if (level) node.signal(level);
      } catch (error) {
        sink.error(error, 'The event-loop-delay source failed to read its histogram');
      }
    };
    this.polling = sink.scheduler.schedule(function () {
      poll();
      this.schedule(undefined, interval);
    }, interval);
  }

  stop(): void {
    this.polling?.unsubscribe();
    this.polling = undefined;
    this.histogram?.disable();
    this.histogram = undefined;
  }

  /** The level a delay of `ms` reaches, if any. */
  levelFor(ms: number): PressureLevel | undefined {
    const { low, medium, critical } = this.options;
    if (ms >= critical) return 'critical';
    if (ms >= medium) return 'medium';
    if (low !== undefined && ms >= low) return 'low';
    return undefined;
  }
}

/** Creates `event-loop-delay` sources from config. */
@injectable()
export class EventLoopDelaySourceFactory implements PressureSourceFactory<EventLoopDelayOptions> {
  readonly id = 'event-loop-delay';
  readonly description = 'event-loop stalls (perf_hooks.monitorEventLoopDelay) mapped to pressure levels';
  readonly optionsSchema = eventLoopDelayOptionsSchema;

  create(options: EventLoopDelayOptions): EventLoopDelaySource {
    return new EventLoopDelaySource(options);
  }
}
