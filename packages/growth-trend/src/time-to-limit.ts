import {
  formatBytes,
  formatDuration,
  levelIndex,
  parseBytesOrPercent,
  type BytesOrPercent,
  type HeadroomReading,
  type HeadroomTarget,
  type PressureLevel,
} from '@memshed/core';
import { bytesOrPercentOption, durationOption, durationOrNeverOption, orFalse, z } from '@memshed/options';
import { GrowthTrend } from './growth-trend';

/**
 * Options of the time-to-limit signal of a headroom source (`timeToLimit:` in the system source's
 * `container` and in the v8 source). `false` turns it off.
 *
 * @example
 * { medium: '5s', critical: '1s', window: '1s' }
 */
export const timeToLimitSchema = z.strictObject({
  /** Signal `medium` when, at the current growth rate, the limit is less than this away. Default 3s; `never`: off. */
  medium: durationOrNeverOption.default(3000),
  /**
   * Signal `critical` when the limit is less than this away (and usage is past the source's medium
   * threshold: {@link levelWithPrediction}). Default `never`: at fast growth that the medium actions
   * keep up with, the limit is always less than a second away, and critical would shed work.
   */
  critical: durationOrNeverOption.default(Infinity),
  /** How far back the growth rate looks (the smoothing). Default 1s. */
  window: durationOption.default(1000),
  /**
   * Readings of steady growth needed before a rate is believed (at least 3: two intervals that both
   * grew, so that one jump is never a trend). Default 3.
   */
  samples: z.number().int().min(3).default(3),
  /** How often usage is read while it is above `from`. Default 100ms. */
  interval: durationOption.default(100),
  /**
   * Usage (a share of the limit, or a size) from which it is read every `interval`; below it
   * nothing more is read than the source reads anyway. Default 50%.
   */
  from: bytesOrPercentOption.default(parseBytesOrPercent('50%')),
});

/** The time-to-limit option of a headroom source: {@link timeToLimitSchema}, or `false` (off). */
export const timeToLimitOption = orFalse(timeToLimitSchema);

/** Options of the time-to-limit signal, defaults applied. */
export type TimeToLimitOptions = z.output<typeof timeToLimitSchema>;
/** Options of the time-to-limit signal as written in config. */
export type TimeToLimitOptionsInput = z.input<typeof timeToLimitSchema>;

/** What {@link TimeToLimit.observe} makes of one reading. */
export interface TimeToLimitReading {
  /** The level the time left maps to, undefined when it is further than `medium`. */
  readonly level: PressureLevel | undefined;
  /** Growth in bytes per second, undefined while there is no steady growth. */
  readonly rate: number | undefined;
  /** Milliseconds until the limit at that rate; Infinity without one. */
  readonly eta: number;
  /** Why, in words, e.g. `limit in 0.8 s at 120 MiB/s`; undefined without a rate. */
  readonly reason: string | undefined;
}

const NO_READING: TimeToLimitReading = {
  level: undefined,
  rate: undefined,
  eta: Infinity,
  reason: undefined,
};

/**
 * The time-to-limit signal of one headroom (usage against a limit): a {@link GrowthTrend} of the
 * usage and the level the time left maps to. It is a prediction from the recent rate, not a kernel
 * fact: growth that stops stops the prediction, and growth that starts is seen after `samples`
 * readings.
 */
export class TimeToLimit {
  private readonly trend: GrowthTrend;
  private limit = NaN;
  private last: TimeToLimitReading = NO_READING;

  constructor(readonly options: TimeToLimitOptions) {
    this.trend = new GrowthTrend({ window: options.window, samples: options.samples });
  }

  /** The usage in bytes from which the source should read every `interval`. */
  floor(limit: number): number {
    return floorBytes(this.options.from, limit);
  }

  /** The latest reading's judgement. */
  get current(): TimeToLimitReading {
    return this.last;
  }

  /**
   * Adds a reading of `usage` against `limit` at `time` (ms) and judges it. A change of limit
   * starts the trend again (what was growing towards the old limit says nothing of the new one).
   */
  observe(time: number, usage: number, limit: number): TimeToLimitReading {
    if (limit !== this.limit) {
      this.trend.reset();
      this.limit = limit;
    }
    this.trend.add(time, usage);
    const rate = this.trend.rate();
    if (rate === undefined || !Number.isFinite(limit)) return (this.last = NO_READING);
    const eta = this.trend.timeTo(limit);
    const level =
      eta < within(this.options.critical)
        ? 'critical'
        : eta < within(this.options.medium)
          ? 'medium'
          : undefined;
    return (this.last = { level, rate, eta, reason: describeTimeToLimit(eta, rate) });
  }

  /** Forgets the trend (usage is below `from` again, or the source stopped). */
  reset(): void {
    this.trend.reset();
    this.last = NO_READING;
  }

  /** The state for a status line: `growing 120 MiB/s, limit in 0.8 s`, or `not growing`. */
  describe(): string {
    const { rate, eta } = this.last;
    if (rate === undefined) return 'not growing';
    return `growing ${formatBytes(rate)}/s, limit in ${formatSeconds(eta)}`;
  }
}

/** A headroom source's last read: `used` bytes against `limit` bytes at `time` (ms, its scheduler's). */
export interface HeadroomSample {
  /** When it was read, in ms on the source's scheduler. */
  readonly time: number;
  /** Bytes in use, as the source judges them. */
  readonly used: number;
  /** The limit in bytes; Infinity when there is none. */
  readonly limit: number;
}

/**
 * The {@link HeadroomReading} of a headroom source's `headroom()`: its last read and what its time
 * to limit made of it, or, without one (`timeToLimit: false`), no growth and no time to limit.
 */
export function headroomReading(
  target: HeadroomTarget,
  sample: HeadroomSample,
  timeToLimit: TimeToLimit | undefined,
): HeadroomReading {
  const trend = timeToLimit?.current;
  return {
    target,
    usedBytes: sample.used,
    limitBytes: sample.limit,
    growthBytesPerSecond: trend?.rate,
    timeToLimitMs: trend?.eta,
    time: sample.time,
  };
}

/** `limit in 0.8 s at 120 MiB/s`: the reason a time-to-limit event carries. */
export function describeTimeToLimit(eta: number, rate: number): string {
  return `limit in ${formatSeconds(eta)} at ${formatBytes(rate)}/s`;
}

/**
 * The level a headroom source reports from its measured level (usage against its thresholds) and
 * the time to limit's, and whether the prediction decided it (so that the source signals it at
 * every reading, with the prediction's reason):
 *
 * - the prediction raises the measured level, never lowers it;
 * - a predicted `critical` counts as `medium` until the measured level is `medium` or above. At a
 *   fast enough growth the limit is always less than a second away, also while the actions taken
 *   at medium (a purge, a collection) keep usage well below it, each run giving back what the
 *   traffic refilled: critical there would shed the service's work (HTTP load shedding, service
 *   shutdown) for a danger the cheaper actions are handling. Once usage stays past the medium
 *   threshold anyway, they are not keeping up, and the prediction's critical stands.
 */
export function levelWithPrediction(
  predicted: PressureLevel | undefined,
  measured: PressureLevel | undefined,
): { readonly level: PressureLevel | undefined; readonly byPrediction: boolean } {
  const heeded =
    predicted === 'critical' && (measured === undefined || levelIndex(measured) < levelIndex('medium'))
      ? 'medium'
      : predicted;
  const level = higherLevel(heeded, measured);
  return { level, byPrediction: heeded !== undefined && level === heeded };
}

/** The higher of two levels, either of which may be absent. */
export function higherLevel(
  a: PressureLevel | undefined,
  b: PressureLevel | undefined,
): PressureLevel | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return levelIndex(a) >= levelIndex(b) ? a : b;
}

/** A level's threshold in ms: `never` (Infinity) turns the level off, as if no time were close enough. */
function within(threshold: number): number {
  return threshold === Infinity ? 0 : threshold;
}

/** `from` in bytes under `limit` (Infinity under an infinite limit with a share). */
function floorBytes(from: BytesOrPercent, limit: number): number {
  if ('bytes' in from) return from.bytes;
  return Number.isFinite(limit) ? Math.round((from.percent / 100) * limit) : Infinity;
}

function formatSeconds(ms: number): string {
  if (!Number.isFinite(ms)) return formatDuration(Infinity);
  // Tenths of a second under a minute: what a person reads at a glance in an event or a log.
  return ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : formatDuration(Math.round(ms / 1000) * 1000);
}
