// Math's functions held in module scope: a global lookup on every call is slow inside vm contexts (jest).
const { imul, max, min, trunc } = Math;

/**
 * A small seeded pseudo-random generator (mulberry32: 32 bits of state, period 2^32), so that a
 * simulation with the same scenario and seed makes the same draws on every run and machine.
 * Not for cryptography; plenty for sampling which pages a reclaim pass finds referenced.
 *
 * @example
 * const random = new Prng(42);
 * random.next(); // 0 <= x < 1, the same sequence for seed 42 everywhere
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    // Any integer seed; fold it to 32 bits so that 2^32 + 1 and 1 differ only by design.
    this.state = (trunc(seed) ^ trunc(seed / 2 ** 32)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /**
   * The number of successes in `n` trials of probability `p`, from one uniform draw (inverse of
   * the binomial distribution function, walked from the likelier end): exact, and cheap for the
   * batches of a few dozen pages the model draws.
   */
  binomial(n: number, p: number): number {
    if (p <= 0 || n <= 0) return 0;
    if (p >= 1) return n;
    if (p > 0.5) return n - this.binomial(n, 1 - p);
    const q = 1 - p;
    const ratio = p / q;
    // q^n by multiplication: correctly rounded steps, the same everywhere (unlike Math.pow).
    let probability = 1;
    for (let i = 0; i < n; i++) probability *= q;
    let cumulative = probability;
    const u = this.next();
    let k = 0;
    while (u > cumulative && k < n) {
      probability *= ((n - k) / (k + 1)) * ratio;
      cumulative += probability;
      k++;
    }
    return k;
  }

  /**
   * How many of `n` items taken without replacement from a pool of `marked + other` items are
   * marked (hypergeometric). Exact, one draw per item, for small pools; for pools much larger than
   * `n` the difference from drawing with replacement is negligible and one binomial draw is used.
   */
  hypergeometric(n: number, marked: number, other: number): number {
    const total = marked + other;
    if (n >= total) return marked;
    if (marked === 0) return 0;
    if (other === 0) return n;
    if (total >= 16 * n) return min(marked, max(n - other, this.binomial(n, marked / total)));
    let hits = 0;
    for (let i = 0; i < n; i++) {
      if (this.next() * (marked + other) < marked) {
        hits++;
        marked--;
      } else {
        other--;
      }
    }
    return hits;
  }

  /**
   * An approximately standard normal draw: the sum of 12 uniforms, minus 6 (Irwin-Hall). Only
   * additions, so the result is the same on every machine (Math.log and Math.cos are not
   * guaranteed to round alike everywhere); plenty for the workload's wandering load.
   */
  normal(): number {
    let sum = 0;
    for (let i = 0; i < 12; i++) sum += this.next();
    return sum - 6;
  }
}
