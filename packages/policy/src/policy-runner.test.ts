import { createMemshed, type Memshed, type SheddingAction } from '@memshed/core';
import { FakeSource, ManualScheduler } from '@memshed/core/testing';
import {
  PolicyRunner,
  RERUN_BACKOFF_INITIAL_MS,
  RERUN_BACKOFF_MAX_MS,
  RERUN_GAP_MAX_MS,
  RERUN_MIN_FREED_BYTES,
  type CompiledPolicy,
  type PolicyDecision,
} from './policy-runner';

const MIB = 1024 * 1024;

/** One run of the test action, in virtual time. */
interface Run {
  start: number;
  end?: number;
}

/**
 * A policy runner on a memshed driven by a fake source in virtual time, with one action that takes
 * `took` ms and frees what `freed()` says.
 */
class Harness {
  readonly clock = new ManualScheduler();
  readonly fake = new FakeSource('manual');
  readonly runs: Run[] = [];
  readonly decisions: PolicyDecision[] = [];
  took = 0;
  freed: number | undefined = MIB;
  inFlight = 0;
  maxInFlight = 0;
  memshed!: Memshed;
  runner!: PolicyRunner;

  readonly action: SheddingAction = {
    id: 'work',
    run: async () => {
      const run: Run = { start: this.clock.now() };
      this.runs.push(run);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      if (this.took > 0) {
        await new Promise<void>((resolve) => this.clock.schedule(() => resolve(), this.took));
      }
      this.inFlight--;
      run.end = this.clock.now();
      return this.freed === undefined ? { summary: 'did nothing' } : { freedBytes: this.freed };
    },
  };

  async start(policy: Partial<CompiledPolicy> = {}): Promise<this> {
    this.memshed = await createMemshed({
      sources: [this.fake],
      scheduler: this.clock,
      recovery: { quiet: 1000 },
    });
    this.runner = new PolicyRunner(
      [{ name: 'p', level: 'medium', for: 0, steps: [{ action: this.action, timeout: 60_000 }], ...policy }],
      { monitor: this.memshed.monitor, runner: this.memshed.runner },
    );
    this.runner.decisions$.subscribe((decision) => this.decisions.push(decision));
    this.runner.start();
    return this;
  }

  async stop(): Promise<void> {
    await this.runner.stop();
    await this.memshed.stop();
  }

  /** Moves virtual time 1 ms at a time, letting promises settle at each, so runs end when they are due. */
  async advance(ms: number): Promise<void> {
    const end = this.clock.now() + ms;
    // A signal sent outside the clock schedules its run due now: run it and let it settle first.
    this.clock.flush();
    await settle();
    while (this.clock.now() < end) {
      this.clock.advanceTo(this.clock.now() + 1);
      await settle();
    }
  }

  /** Signals `level` every `every` ms for `ms`. */
  async hold(ms: number, every = 10, level: 'medium' | 'critical' | 'low' = 'medium'): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      this.fake.signal(level);
      await this.advance(every);
    }
  }

  starts(): number[] {
    return this.runs.map((run) => run.start);
  }

  fired(): Extract<PolicyDecision, { type: 'fired' }>[] {
    return this.decisions.filter((d): d is Extract<PolicyDecision, { type: 'fired' }> => d.type === 'fired');
  }

  backoffs(): Extract<PolicyDecision, { type: 'backed-off' }>[] {
    return this.decisions.filter(
      (d): d is Extract<PolicyDecision, { type: 'backed-off' }> => d.type === 'backed-off',
    );
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

describe(PolicyRunner, () => {
  let harness: Harness | undefined;
  const setUp = async (policy: Partial<CompiledPolicy> = {}, configure?: (h: Harness) => void) => {
    const h = new Harness();
    configure?.(h);
    harness = h;
    return h.start(policy);
  };
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  describe('without cooldown', () => {
    it('runs again on the first signal after the previous run completed, and says why', async () => {
      const h = await setUp({}, (h) => (h.took = 200));
      h.fake.signal('medium');
      await h.advance(100);
      h.fake.signal('medium'); // during the run: not a signal for the next one
      await h.advance(400);
      expect(h.starts()).toEqual([0]);
      h.fake.signal('critical');
      await h.advance(10);
      expect(h.starts()).toEqual([0, 500]);
      const fired = h.fired();
      expect(fired.map((d) => [d.reason, d.run, d.time])).toEqual([
        ['episode', 1, 0],
        ['signal', 2, 500],
      ]);
      expect(fired[1].signal).toMatchObject({ level: 'critical', source: 'manual' });
      expect(fired[0].signal).toBeUndefined();
    });

    it('runs again as soon as a run completes when the state rose above what it was for meanwhile (escalated)', async () => {
      const h = await setUp({}, (h) => ((h.took = 200), (h.freed = 0)));
      h.fake.signal('medium');
      await h.advance(100);
      h.fake.signal('critical'); // during the run for medium: the run in flight was planned for less
      await h.advance(110);
      // No gap, no backoff (the run freed nothing), no new signal needed.
      expect(h.starts()).toEqual([0, 200]);
      const fired = h.fired();
      expect(fired.map((d) => [d.reason, d.run, d.time, d.state])).toEqual([
        ['episode', 1, 0, 'medium'],
        ['escalated', 2, 200, 'critical'],
      ]);
      expect(fired[1].signal).toMatchObject({ level: 'critical', source: 'manual' });
      // A critical event during the run for critical is no escalation: the next run waits for a
      // signal after it, and for the gap and the backoff.
      await h.advance(90);
      h.fake.signal('critical');
      await h.advance(400);
      expect(h.starts()).toEqual([0, 200]);
      h.fake.signal('critical');
      await h.advance(300);
      expect(h.fired().map((d) => d.reason)).toEqual(['episode', 'escalated', 'signal']);
      expect(h.starts()[2]).toBeGreaterThanOrEqual(400 + 200);
    });

    it('does not run again without a new signal, however long the state holds', async () => {
      const h = await setUp();
      h.fake.signal('critical');
      await h.advance(900); // still critical (quiet 1 s), then medium until 2 s: no new event
      expect(h.memshed.monitor.state).toBe('critical');
      await h.advance(1000);
      expect(h.memshed.monitor.state).toBe('medium');
      expect(h.starts()).toEqual([0]);
    });

    it('never overlaps runs and keeps no backlog: a slow chain under a flood of signals runs one at a time', async () => {
      const h = await setUp({}, (h) => (h.took = 300));
      await h.hold(2900); // 290 signals
      // Each run starts after the previous ended plus a gap as long as it took.
      expect(h.starts()).toEqual([0, 600, 1200, 1800, 2400]);
      // Signals stop: the one re-run pending (signals came after the run of 2400 ended at 2700)
      // starts when the gap ends, and nothing was queued behind it.
      await h.advance(5000);
      expect(h.starts()).toEqual([0, 600, 1200, 1800, 2400, 3000]);
      expect(h.maxInFlight).toBe(1);
      expect(
        h
          .fired()
          .slice(1)
          .every((d) => d.reason === 'signal'),
      ).toBe(true);
      expect(h.runner.busy).toBe(false);
    });

    it(`caps the gap after a long run at ${RERUN_GAP_MAX_MS} ms`, async () => {
      const h = await setUp({}, (h) => (h.took = 4000));
      await h.hold(6000, 100);
      expect(h.starts()).toEqual([0, 4000 + RERUN_GAP_MAX_MS]);
    });

    it('backs off exponentially while runs free nothing, up to the cap, and resets when one frees memory', async () => {
      const h = await setUp({}, (h) => (h.freed = 0));
      await h.hold(10_000);
      const delays = h.backoffs().map((d) => d.delay);
      expect(delays.slice(0, 7)).toEqual([100, 200, 400, 800, 1600, 3200, RERUN_BACKOFF_MAX_MS]);
      expect(delays[0]).toBe(RERUN_BACKOFF_INITIAL_MS);
      expect(h.starts().slice(0, 6)).toEqual([0, 100, 300, 700, 1500, 3100]);
      expect(h.backoffs()[0]).toMatchObject({
        time: 0,
        until: 100,
        fruitless: 1,
        why: 'nothing freed: work freed 0 B',
      });
      // The actions find something again: the next run resets the backoff.
      h.freed = RERUN_MIN_FREED_BYTES;
      const before = h.runs.length;
      await h.hold(RERUN_BACKOFF_MAX_MS);
      expect(h.runs.length).toBeGreaterThan(before + 100);
      expect(h.backoffs()).toHaveLength(delays.length);
    });

    it('counts crumbs as nothing: a run must free at least RERUN_MIN_FREED_BYTES in all', async () => {
      const h = await setUp({}, (h) => (h.freed = RERUN_MIN_FREED_BYTES / 2));
      await h.hold(150);
      expect(h.starts()).toEqual([0, 100]);
      expect(h.backoffs()[0].why).toBe('freed 512 KiB, less than 1 MiB: work freed 512 KiB');
    });

    it('gives an action that does not say what it freed the benefit of the doubt', async () => {
      const h = await setUp({}, (h) => (h.freed = undefined));
      await h.hold(150);
      expect(h.starts()).toHaveLength(15);
      expect(h.backoffs()).toEqual([]);
    });

    it('backs off dry runs: they free nothing', async () => {
      const h = await setUp({ dryRun: true });
      await h.hold(350);
      expect(h.starts()).toEqual([0, 100, 300]);
      expect(h.backoffs()[0].why).toBe('nothing freed: work dry run');
    });

    it('stops running again when the episode ends, and starts afresh (backoff reset) with the next', async () => {
      const h = await setUp({}, (h) => (h.freed = 0));
      await h.hold(350);
      expect(h.starts()).toEqual([0, 100, 300]);
      // The re-run pending from the signals after 300 waits out its backoff, then nothing: the
      // monitor steps down to low 1 s after the last signal, and the episode is over.
      await h.advance(1500);
      expect(h.memshed.monitor.state).toBe('low');
      expect(h.starts()).toEqual([0, 100, 300, 700]);
      const next = h.clock.now();
      await h.hold(150);
      expect(h.starts()).toEqual([0, 100, 300, 700, next, next + 100]);
      expect(h.fired().map((d) => d.reason)).toEqual([
        'episode',
        'signal',
        'signal',
        'signal',
        'episode',
        'signal',
      ]);
    });

    it("waits for a run that outlives its episode, then starts the next episode's first run, not backed off", async () => {
      const h = await setUp({}, (h) => {
        h.took = 3000;
        h.freed = 0;
      });
      h.fake.signal('medium');
      await h.advance(2500); // medium until 1 s, low until 2 s, then normal: the episode is over
      expect(h.memshed.monitor.state).toBe('normal');
      h.fake.signal('medium'); // a new episode while the first run still runs
      await h.advance(600);
      expect(h.maxInFlight).toBe(1);
      expect(h.starts()).toEqual([0, 3000]);
      expect(h.fired().map((d) => [d.reason, d.run])).toEqual([
        ['episode', 1],
        ['episode', 1],
      ]);
      expect(h.backoffs()).toEqual([]);
    });

    it('ignores signals below its level or outside its scope', async () => {
      const h = await setUp({ scope: '/app' });
      h.fake.signal('medium', '/app');
      await h.advance(10);
      h.fake.signal('critical', '/other');
      h.fake.signal('low', '/app');
      await h.advance(500);
      expect(h.starts()).toEqual([0]);
      h.fake.signal('medium', '/app/worker');
      await h.advance(10);
      expect(h.starts()).toEqual([0, 510]);
    });
  });

  describe('with cooldown', () => {
    it('runs at most once per cooldown, signal or not', async () => {
      const h = await setUp({ cooldown: 1000 }, (h) => (h.took = 200));
      await h.hold(3500);
      expect(h.starts()).toEqual([0, 1200, 2400]);
      expect(h.fired().map((d) => d.reason)).toEqual(['episode', 'cooldown', 'cooldown']);
    });

    it('backs off beyond a short cooldown when runs free nothing', async () => {
      const h = await setUp({ cooldown: 100 }, (h) => (h.freed = 0));
      await h.hold(800);
      expect(h.starts()).toEqual([0, 100, 300, 700]);
      // The first backoff (100 ms) was within the cooldown: only the longer ones are decisions.
      expect(h.backoffs().map((d) => d.delay)).toEqual([200, 400, 800]);
    });
  });
});
