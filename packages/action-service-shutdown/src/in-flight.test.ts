import { InFlight } from './in-flight';

function deferred() {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe(InFlight, () => {
  describe('.drain', () => {
    it('resolves at once when nothing is in flight', async () => {
      await expect(new InFlight().drain()).resolves.toBeUndefined();
    });

    it('waits for every tracked promise, including work tracked while draining and failed work', async () => {
      const inFlight = new InFlight();
      const a = deferred();
      const b = deferred();
      const c = deferred();
      inFlight.track(a.promise);
      void inFlight.track(b.promise).catch(() => undefined);
      let drained = false;
      const drain = inFlight.drain().then(() => (drained = true));
      a.resolve();
      await Promise.resolve();
      inFlight.track(c.promise);
      b.reject(new Error('job failed'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(drained).toBe(false);
      expect(inFlight.size).toBe(1);
      c.resolve();
      await drain;
      expect(drained).toBe(true);
      expect(inFlight.size).toBe(0);
    });

    it('rejects with the reason when the signal aborts first', async () => {
      const inFlight = new InFlight();
      inFlight.track(deferred().promise);
      const controller = new AbortController();
      const drain = inFlight.drain(controller.signal);
      controller.abort(new Error('stop budget spent'));
      await expect(drain).rejects.toThrow('stop budget spent');
      await expect(inFlight.drain(controller.signal)).rejects.toThrow('stop budget spent');
    });
  });

  describe('.run', () => {
    it('tracks the promise a function returns and turns a throw into a rejection', async () => {
      const inFlight = new InFlight();
      const job = deferred();
      const tracked = inFlight.run(() => job.promise);
      expect(inFlight.size).toBe(1);
      job.resolve();
      await tracked;
      await expect(
        inFlight.run(() => {
          throw new Error('sync');
        }),
      ).rejects.toThrow('sync');
      expect(inFlight.size).toBe(0);
    });
  });
});
