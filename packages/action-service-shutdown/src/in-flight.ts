/**
 * Tracks a service's in-flight work so that its `stop` can wait for it: the graceful half of a
 * shutdown. Stop taking new work first, then `await inFlight.drain(signal)`.
 *
 * @example
 * const inFlight = new InFlight();
 * queue.on('job', (job) => inFlight.track(process(job)));
 * services.register('indexer', {
 *   priority: 'background',
 *   stop: async (signal) => { queue.pause(); await inFlight.drain(signal); },
 *   start: () => queue.resume(),
 * });
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();
  private readonly waiters = new Set<() => void>();

  /** How many tracked promises have not settled. */
  get size(): number {
    return this.pending.size;
  }

  /** Tracks `work` until it settles; returns it unchanged (its rejection is the caller's to handle). */
  track<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const done = () => {
      this.pending.delete(work);
      if (this.pending.size === 0) for (const wake of [...this.waiters]) wake();
    };
    work.then(done, done);
    return work;
  }

  /** Runs `fn` and tracks the promise it returns (a synchronous throw becomes a rejection). */
  run<T>(fn: () => Promise<T>): Promise<T> {
    let work: Promise<T>;
    try {
      work = fn();
    } catch (error) {
      work = Promise.reject(error);
    }
    return this.track(work);
  }

  /**
   * Resolves once nothing is in flight (at once when nothing is); rejects with the signal's
   * reason when it aborts first. Work tracked while draining is waited for as well.
   */
  drain(signal?: AbortSignal): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.waiters.delete(wake);
        reject(signal?.reason);
      };
      const wake = () => {
        this.waiters.delete(wake);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      this.waiters.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
