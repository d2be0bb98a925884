/** Options of {@link GrowthTrend}. */
export interface GrowthTrendOptions {
  /** How far back, in ms, the samples of the current run of growth are kept. */
  readonly window: number;
  /**
   * Samples needed before a rate is given (at least 3): with 3, the two latest intervals must
   * both have grown, so that one jump alone never makes a rate.
   */
  readonly samples: number;
}

/**
 * Samples closer than this to the previous one are not added: a reading triggered by an event a
 * millisecond after a poll would turn the kernel's batched charging (per-CPU stocks of pages) into
 * absurd rates.
 */
const MIN_INTERVAL_MS = 20;

/**
 * How fast a quantity (memory usage, a heap) grows, from samples of it: the lower median of the
 * rates of the intervals in the current run of growth, that run cut to the last `window` ms.
 *
 * - A run of growth ends at any interval that did not grow: a flat or falling reading starts a new
 *   run. So a one-off jump followed by flat readings never gives a rate (its run has one interval),
 *   and the onset of fast growth gives its rate after `samples` readings, with no older flat
 *   readings to dilute it, which a least-squares slope over a fixed window would.
 * - Within a run, the lower median is robust to one spike among steady growth and, with two
 *   intervals, is the slower of them (a jump followed by slow growth gives the slow rate).
 *
 * Slow growth that the source's granularity shows as flat readings now and then gives no rate in
 * those moments: what it would predict is far away anyway, and the usage thresholds are there for
 * it. Times are the caller's clock (a scheduler's `now()`), in ms.
 */
export class GrowthTrend {
  private readonly times: number[] = [];
  private readonly values: number[] = [];

  constructor(private readonly options: GrowthTrendOptions) {}

  /** The latest value added, undefined before the first. */
  get latest(): number | undefined {
    return this.values.at(-1);
  }

  /** Adds a reading of `value` at `time`. */
  add(time: number, value: number): void {
    const count = this.values.length;
    if (count > 0) {
      if (time - this.times[count - 1] < MIN_INTERVAL_MS) return;
      if (!(value > this.values[count - 1])) this.reset();
    }
    this.times.push(time);
    this.values.push(value);
    const oldest = time - this.options.window;
    let drop = 0;
    while (drop < this.times.length - 1 && this.times[drop] < oldest) drop++;
    if (drop > 0) {
      this.times.splice(0, drop);
      this.values.splice(0, drop);
    }
  }

  /** Forgets every reading (after a limit change, say). */
  reset(): void {
    this.times.length = 0;
    this.values.length = 0;
  }

  /**
   * The growth rate in units per second, or undefined while there is no steady growth: fewer than
   * `samples` readings in the current run.
   */
  rate(): number | undefined {
    const count = this.values.length;
    if (count < Math.max(3, this.options.samples)) return undefined;
    const rates: number[] = [];
    for (let i = 1; i < count; i++) {
      rates.push(((this.values[i] - this.values[i - 1]) * 1000) / (this.times[i] - this.times[i - 1]));
    }
    rates.sort((a, b) => a - b);
    return rates[Math.floor((rates.length - 1) / 2)];
  }

  /**
   * Milliseconds until the latest reading reaches `limit` at {@link rate} (0 when it already has),
   * Infinity when there is no rate or the limit is infinite.
   */
  timeTo(limit: number): number {
    const latest = this.latest;
    const rate = this.rate();
    if (latest === undefined || rate === undefined || !Number.isFinite(limit)) return Infinity;
    if (latest >= limit) return 0;
    return ((limit - latest) * 1000) / rate;
  }
}
