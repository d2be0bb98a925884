import { ContainerModule, injectable } from './inversify';
import { firstValueFrom, take, toArray } from 'rxjs';
import { MemshedError } from './errors';
import { createMemshed, isSkippedSource, type Memshed } from './memshed';
import type { Logger } from './logger';
import {
  PressureSourceFactory,
  noOptions,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from './plugin';
import { FakeSource, ManualScheduler } from './testing';

@injectable()
class CountingSourceFactory implements PressureSourceFactory<Record<string, never>> {
  readonly id = 'counting';
  readonly description = 'counts starts and stops';
  readonly optionsSchema = noOptions;
  static starts = 0;
  static stops = 0;
  create(): PressureSource {
    return {
      id: 'counting',
      availability: () => ({ available: true }),
      start: (_sink: PressureSink) => void CountingSourceFactory.starts++,
      stop: () => void CountingSourceFactory.stops++,
    };
  }
}

const countingModule = new ContainerModule(({ bind }) => {
  bind(CountingSourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(CountingSourceFactory);
});

/** What the test sources of {@link hostModule} do. */
interface HostSource {
  readonly availability: () => SourceAvailability;
  readonly start?: () => void;
}

/**
 * A machine's source plugins, as specs name them: `v1` (only on a cgroup v1 host), `v2` (only on
 * a v2 host), `fine`, and whatever `extra` adds. Each created source is kept in `created`.
 */
function hostModule(created: FakeSource[], extra: Record<string, HostSource> = {}): ContainerModule {
  const sources: Record<string, HostSource> = {
    v1: { availability: () => ({ available: false, reason: 'no cgroup v1 here', hint: 'use v2' }) },
    v2: { availability: () => ({ available: false, reason: 'no PSI here', hint: 'use v1' }) },
    fine: { availability: () => ({ available: true }) },
    ...extra,
  };
  return new ContainerModule(({ bind }) => {
    for (const [id, behaviour] of Object.entries(sources)) {
      bind(PressureSourceFactory).toConstantValue({
        id,
        description: id,
        optionsSchema: noOptions,
        create: () => {
          const source = new FakeSource(id);
          source.availability = behaviour.availability;
          if (behaviour.start) source.start = behaviour.start;
          created.push(source);
          return source;
        },
      });
    }
  });
}

/** A logger that keeps each line with its level. */
function recordingLogger(): Logger & { lines: [string, string][] } {
  const lines: [string, string][] = [];
  const at = (level: string) => (message: string) => void lines.push([level, message]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('createMemshed', () => {
  it("shows a running source's detail() in sources[].detail, else its availability's detail", async () => {
    let rate = 'not growing';
    const source: PressureSource = {
      id: 'growing',
      availability: () => ({ available: true, detail: 'watching a limit' }),
      start: () => undefined,
      stop: () => undefined,
      detail: () => rate,
    };
    const legacy = { ...source, id: 'legacy', detail: 'a field of its own' } as unknown as PressureSource;
    const memshed = await createMemshed({ sources: [source, legacy], scheduler: new ManualScheduler() });
    expect(memshed.sources.map((s) => s.detail)).toEqual(['not growing', 'watching a limit']);
    rate = 'growing 120 MiB/s, limit in 0.8 s';
    expect(memshed.sources[0].detail).toBe('growing 120 MiB/s, limit in 0.8 s');
    await memshed.stop();
  });

  it("reads a running source's headroom() at each read of sources[].headroom; [] without one", async () => {
    let used = 100;
    const source: PressureSource = {
      id: 'headroom',
      availability: () => ({ available: true }),
      start: () => undefined,
      stop: () => undefined,
      headroom: () => [
        {
          target: 'heap',
          usedBytes: used,
          limitBytes: 400,
          growthBytesPerSecond: undefined,
          timeToLimitMs: Infinity,
          time: 0,
        },
      ],
    };
    const legacy = { ...source, id: 'legacy', headroom: 'a field of its own' } as unknown as PressureSource;
    const unavailable: PressureSource = {
      ...source,
      id: 'unavailable',
      availability: () => ({ available: false, reason: 'no', hint: 'none' }),
    };
    const memshed = await createMemshed({
      sources: [source, legacy, unavailable],
      scheduler: new ManualScheduler(),
    });
    expect(memshed.sources.map((s) => s.headroom?.map((reading) => reading.usedBytes))).toEqual([
      [100],
      [],
      undefined,
    ]);
    used = 300;
    expect(memshed.sources[0].headroom).toEqual([
      expect.objectContaining({ target: 'heap', usedBytes: 300 }),
    ]);
    await memshed.stop();
  });

  it("falls back to the availability's detail for a detail() that throws, and still stops", async () => {
    const source: PressureSource = {
      id: 'broken-detail',
      availability: () => ({ available: true, detail: 'watching /proc/pressure/memory' }),
      start: () => undefined,
      stop: () => undefined,
      detail: () => {
        throw new Error('no reading');
      },
    };
    const memshed = await createMemshed({ sources: [source], scheduler: new ManualScheduler() });
    expect(memshed.sources[0].detail).toBe('watching /proc/pressure/memory');
    await expect(memshed.stop()).resolves.toBeUndefined();
    expect(memshed.sources[0].state).toBe('stopped');
  });

  it('gives [] for a headroom() that throws, and still stops', async () => {
    const source: PressureSource = {
      id: 'broken',
      availability: () => ({ available: true }),
      start: () => undefined,
      stop: () => undefined,
      headroom: () => {
        throw new Error('no reading');
      },
    };
    const memshed = await createMemshed({ sources: [source], scheduler: new ManualScheduler() });
    expect(memshed.sources[0].headroom).toEqual([]);
    await expect(memshed.stop()).resolves.toBeUndefined();
    expect(memshed.sources[0].state).toBe('stopped');
  });

  it('resolves sources by plugin id through container modules, starts and stops them', async () => {
    const memshed = await createMemshed({ modules: [countingModule], sources: [{ use: 'counting' }] });
    expect(memshed.sources.map((s) => [s.id, s.state])).toEqual([['counting', 'running']]);
    expect(CountingSourceFactory.starts).toBe(1);
    await memshed.stop();
    await memshed.stop();
    expect(CountingSourceFactory.stops).toBe(1);
    expect(memshed.sources[0].state).toBe('stopped');
  });

  it('rejects an unknown source id with the key path and a suggestion', async () => {
    const attempt = createMemshed({ modules: [countingModule], sources: [{ use: 'countign' }] });
    await expect(attempt).rejects.toThrow(
      "sources[0].use: unknown source 'countign'. Known: counting. Did you mean 'counting'?",
    );
    await expect(attempt).rejects.toMatchObject({ kind: 'unknown-plugin' });
    await attempt.catch((error: unknown) => expect(MemshedError.is(error, 'unknown-plugin')).toBe(true));
  });

  it('rejects invalid options with the key path', async () => {
    await expect(
      createMemshed({ modules: [countingModule], sources: [{ use: 'counting', with: { x: 1 } }] }),
    ).rejects.toThrow('sources[0].with: this plugin takes no options');
  });

  it('feeds events from a source to the monitor and recovers to normal', async () => {
    const scheduler = new ManualScheduler();
    const fake = new FakeSource();
    const memshed = await createMemshed({ sources: [fake], scheduler, recovery: { quiet: 1000 } });
    const states = firstValueFrom(memshed.level$.pipe(take(3), toArray()));
    fake.signal('medium', '/app');
    scheduler.flush();
    scheduler.advanceBy(1000);
    scheduler.advanceBy(1000);
    expect(await states).toEqual(['normal', 'medium', 'low']);
    await memshed.stop();
    expect(fake.running).toBe(false);
  });

  it('reports an unavailable source on errors$ and starts the others', async () => {
    const errors: MemshedError[] = [];
    const broken = new FakeSource('broken', { available: false, reason: 'no kernel', hint: 'use another' });
    const fine = new FakeSource('fine');
    const memshed = await createMemshed({ sources: [broken, fine] });
    memshed.errors$.subscribe((e) => errors.push(e));
    expect(memshed.sources.map((s) => s.state)).toEqual(['unavailable', 'running']);
    expect(memshed.sources[0].error?.message).toBe(
      "Source 'broken' is unavailable: no kernel. Fix: use another",
    );
    fine.fail(new Error('boom'));
    expect(errors.map((e) => [e.kind, e.message])).toEqual([
      ['unavailable', "Source 'broken' is unavailable: no kernel. Fix: use another"],
      ['source-failed', "Source 'fine' failed: boom"],
    ]);
    await memshed.stop();
  });

  describe('optional sources', () => {
    it('skips an optional source that is unavailable: status and an info line, nothing on errors$', async () => {
      const logger = recordingLogger();
      const created: FakeSource[] = [];
      const memshed = await createMemshed({
        modules: [hostModule(created)],
        sources: [{ use: 'v1', optional: true }, { use: 'fine' }],
        logger,
      });
      const errors: MemshedError[] = [];
      memshed.errors$.subscribe((e) => errors.push(e));
      expect(memshed.sources).toEqual([
        {
          id: 'v1',
          state: 'unavailable',
          optional: true,
          availability: { available: false, reason: 'no cgroup v1 here', hint: 'use v2' },
        },
        expect.objectContaining({ id: 'fine', state: 'running', optional: false }),
      ]);
      expect(errors).toEqual([]);
      expect(memshed.sources.map(isSkippedSource)).toEqual([true, false]);
      expect(logger.lines).toEqual([
        ['info', "source 'v1' skipped: it is optional and unavailable here: no cgroup v1 here"],
        ['info', "source 'fine' started"],
      ]);
      expect(created.map((source) => [source.id, source.running])).toEqual([
        ['v1', false],
        ['fine', true],
      ]);
      await memshed.stop();
      expect(memshed.sources.map((s) => s.state)).toEqual(['unavailable', 'stopped']);
    });

    it('keeps an unavailable source that is not optional a standing error, as before', async () => {
      const logger = recordingLogger();
      const memshed = await createMemshed({
        modules: [hostModule([])],
        sources: [{ use: 'v1', optional: false }, { use: 'fine' }],
        logger,
      });
      const message = "Source 'v1' is unavailable: no cgroup v1 here. Fix: use v2";
      expect(memshed.sources[0]).toMatchObject({ state: 'unavailable', optional: false, error: { message } });
      expect(isSkippedSource(memshed.sources[0])).toBe(false);
      expect((await firstValueFrom(memshed.errors$)).message).toBe(message);
      expect(logger.lines[0]).toEqual(['warn', message]);
      await memshed.stop();
    });

    it('reports an optional source whose start throws, or that fails while it runs', async () => {
      const created: FakeSource[] = [];
      const module = hostModule(created, {
        refusing: {
          availability: () => ({ available: true }),
          start: () => {
            throw new Error('EACCES on cgroup.event_control');
          },
        },
      });
      const memshed = await createMemshed({
        modules: [module],
        sources: [
          { use: 'refusing', optional: true },
          { use: 'fine', optional: true },
        ],
      });
      const errors: MemshedError[] = [];
      memshed.errors$.subscribe((e) => errors.push(e));
      created[1].fail(new Error('lost the eventfd'));
      expect(memshed.sources.map((s) => [s.id, s.state, s.optional])).toEqual([
        ['refusing', 'failed', true],
        ['fine', 'running', true],
      ]);
      expect(errors.map((e) => [e.kind, e.message])).toEqual([
        ['source-failed', "Source 'refusing' failed to start: EACCES on cgroup.event_control"],
        ['source-failed', "Source 'fine' failed: lost the eventfd"],
      ]);
      await memshed.stop();
    });

    it('reports an optional source whose availability check throws: that is no answer', async () => {
      const memshed = await createMemshed({
        modules: [
          hostModule([], {
            broken: {
              availability: () => {
                throw new Error('EIO reading /proc/self/cgroup');
              },
            },
          }),
        ],
        sources: [{ use: 'broken', optional: true }, { use: 'fine' }],
      });
      expect(memshed.sources[0]).toMatchObject({ state: 'unavailable', optional: true });
      expect(isSkippedSource(memshed.sources[0])).toBe(false);
      expect((await firstValueFrom(memshed.errors$)).message).toBe(
        "Source 'broken' is unavailable: Error: EIO reading /proc/self/cgroup. Fix: see the error",
      );
      await memshed.stop();
    });

    it('reports that nothing runs when every source was optional and unavailable, to late subscribers too', async () => {
      const logger = recordingLogger();
      const memshed = await createMemshed({
        modules: [hostModule([])],
        sources: [
          { use: 'v1', optional: true },
          { use: 'v2', optional: true },
        ],
        logger,
      });
      expect(memshed.sources.map((s) => [s.id, s.state, s.error])).toEqual([
        ['v1', 'unavailable', undefined],
        ['v2', 'unavailable', undefined],
      ]);
      const message =
        'No source is running, memshed watches nothing: v1 (optional) unavailable: no cgroup v1 here; ' +
        'v2 (optional) unavailable: no PSI here. Fix: make one of these sources available here, or add ' +
        'one that is (run `memshed doctor` to see which work on this machine)';
      // Subscribed after createMemshed() resolved: the error is replayed.
      const errors: MemshedError[] = [];
      memshed.errors$.subscribe((e) => errors.push(e));
      expect(errors.map((e) => [e.kind, e.message, e.context])).toEqual([
        ['unavailable', message, { sources: ['v1', 'v2'] }],
      ]);
      expect(logger.lines.at(-1)).toEqual(['error', message]);
      await memshed.stop();
    });

    it('names a required source that failed beside the skipped ones when nothing runs', async () => {
      const memshed = await createMemshed({
        modules: [
          hostModule([], {
            refusing: {
              availability: () => ({ available: true }),
              start: () => {
                throw new Error('EACCES');
              },
            },
          }),
        ],
        sources: [{ use: 'v2', optional: true }, { use: 'refusing' }],
      });
      const all = firstValueFrom(memshed.errors$.pipe(toArray()));
      await memshed.stop();
      expect((await all).map((e) => e.message)).toEqual([
        "Source 'refusing' failed to start: EACCES",
        expect.stringMatching(
          /^No source is running, memshed watches nothing: v2 \(optional\) unavailable: no PSI here; refusing failed to start \(see its error\)\. Fix: /,
        ),
      ]);
    });

    it('adds nothing when no source was given, or when none is optional', async () => {
      const none = await createMemshed({ modules: [hostModule([])] });
      const required = await createMemshed({ modules: [hostModule([])], sources: [{ use: 'v1' }] });
      const errors = (memshed: Memshed) => firstValueFrom(memshed.errors$.pipe(toArray()));
      const [noErrors, oneError] = [errors(none), errors(required)];
      await none.stop();
      await required.stop();
      expect(await noErrors).toEqual([]);
      expect((await oneError).map((e) => e.message)).toEqual([
        "Source 'v1' is unavailable: no cgroup v1 here. Fix: use v2",
      ]);
    });
  });

  describe('errors$', () => {
    it('replays a source that could not start to every subscriber, however late', async () => {
      const throwing: PressureSource = {
        id: 'throwing',
        availability: () => ({ available: true }),
        start: () => {
          throw new Error('EACCES on cgroup.event_control');
        },
        stop: () => undefined,
      };
      const fine = new FakeSource('fine');
      const memshed = await createMemshed({ sources: [throwing, fine] });
      const early: string[] = [];
      memshed.errors$.subscribe((e) => early.push(e.message));
      fine.fail(new Error('transient'));
      const late: string[] = [];
      memshed.errors$.subscribe((e) => late.push(e.message));
      const failedToStart = "Source 'throwing' failed to start: EACCES on cgroup.event_control";
      expect(early).toEqual([failedToStart, "Source 'fine' failed: transient"]);
      // The start-up failure still holds; the transient one is over and is not replayed.
      expect(late).toEqual([failedToStart]);
      await memshed.stop();
    });

    it('completes for every subscriber when memshed stops', async () => {
      const broken = new FakeSource('broken', { available: false, reason: 'no kernel', hint: 'none' });
      const memshed = await createMemshed({ sources: [broken] });
      const all = firstValueFrom(memshed.errors$.pipe(toArray()));
      await memshed.stop();
      expect((await all).map((e) => e.kind)).toEqual(['unavailable']);
    });
  });
});
