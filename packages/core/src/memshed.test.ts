import { ContainerModule, injectable } from './inversify';
import { firstValueFrom, take, toArray } from 'rxjs';
import { MemshedError } from './errors';
import { createMemshed } from './memshed';
import { PressureSourceFactory, noOptions, type PressureSink, type PressureSource } from './plugin';
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
