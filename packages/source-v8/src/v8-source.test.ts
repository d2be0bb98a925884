import { createMemshed, type MemshedError, type PressureEvent } from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import v8SourceModule, { V8Source, v8SourceOptionsSchema } from './index';
import type { GcRecord, HeapSample } from './gc-accounting';
import type { GcBatch, GcRecorder, GcRecorderKind } from './gc-recorder';
import type { V8SourceEnvironment } from './v8-source';
import type { V8SourceOptionsInput } from './v8-source-options';

const MiB = 1024 * 1024;
const LIMIT = 259 * MiB;

/** A recorder driven by the test: `emit()` hands over a batch as the real one does after collections. */
class FakeRecorder implements GcRecorder {
  running = false;
  private onBatch: ((batch: GcBatch) => void) | undefined;
  private onError: ((error: unknown) => void) | undefined;

  constructor(readonly kind: GcRecorderKind) {}

  start(onBatch: (batch: GcBatch) => void, onError: (error: unknown) => void): void {
    this.running = true;
    this.onBatch = onBatch;
    this.onError = onError;
  }

  stop(): void {
    this.running = false;
    this.onBatch = undefined;
  }

  emit(batch: GcBatch): void {
    try {
      this.onBatch?.(batch);
    } catch (error) {
      this.onError?.(error);
    }
  }
}

function heap(committedMiB: number, overrides: Partial<HeapSample> = {}): HeapSample {
  return {
    used: committedMiB * 0.75 * MiB,
    committed: committedMiB * MiB,
    limit: LIMIT,
    external: 0,
    young: MiB,
    ...overrides,
  };
}

/** A mark-sweep on a heap of `committedMiB` that frees `freedPercent` of the used heap. */
function markSweep(committedMiB: number, freedPercent: number): GcRecord {
  const before = heap(committedMiB);
  return {
    type: 'MarkSweepCompact',
    cost: 5000,
    before,
    after: { ...before, used: before.used * (1 - freedPercent / 100) },
  };
}

function batchOf(...records: GcRecord[]): GcBatch {
  return { records, heap: records[records.length - 1].after };
}

async function startSource(
  options: V8SourceOptionsInput = {},
  kind: GcRecorderKind | 'none' = 'gc-profiler',
) {
  const scheduler = new ManualScheduler(1_000_000);
  const recorders: FakeRecorder[] = [];
  // Between collections the heap reads as the last batch left it, unless the test moves it.
  let current = heap(0);
  const heapReads = jest.fn(() => current);
  const environment: V8SourceEnvironment = {
    heap: heapReads,
    detect: () => (kind === 'none' ? undefined : kind),
    create: (k) => {
      const recorder = new FakeRecorder(k);
      recorders.push(recorder);
      return recorder;
    },
  };
  const source = new V8Source(v8SourceOptionsSchema.parse(options), environment);
  const memshed = await createMemshed({ sources: [source], scheduler });
  const events: PressureEvent[] = [];
  const errors: MemshedError[] = [];
  memshed.events$.subscribe((event) => events.push(event));
  memshed.errors$.subscribe((error) => errors.push(error));
  /** Hands over a batch, then lets the engine's work run. */
  const emit = (batch: GcBatch) => {
    current = batch.heap;
    recorders[0].emit(batch);
    scheduler.flush();
  };
  /** Moves the heap as the next read between collections will see it. */
  const setHeap = (sample: HeapSample) => void (current = sample);
  return { scheduler, recorders, source, memshed, events, errors, emit, setHeap, heapReads };
}

describe(V8Source, () => {
  describe('.start', () => {
    it('accounts a collection as a reclaim pass on /v8 once the heap is past efficiencyFrom', async () => {
      const { emit, events, memshed } = await startSource();
      emit(batchOf(markSweep(100, 1))); // 39% committed: growing freely, and below every headroom threshold
      expect(events).toEqual([]);
      emit(batchOf(markSweep(140, 1))); // 54%: past efficiencyFrom (50%), 99% of the examined heap kept
      expect(events).toEqual([
        expect.objectContaining({ level: 'critical', scope: '/v8', source: 'v8', pressure: 99 }),
      ]);
      expect(events[0].scanned).toBe((140 * 0.75 * MiB) / 4096);
      await memshed.stop();
    });

    it('reports an efficient collection past efficiencyFrom as low', async () => {
      const { emit, events, memshed } = await startSource();
      emit(batchOf(markSweep(140, 80)));
      expect(events.map((e) => [e.level, e.pressure])).toEqual([['low', 20]]);
      await memshed.stop();
    });

    it('accounts no collection with efficiencyFrom false: headroom only', async () => {
      const { emit, events, memshed } = await startSource({ efficiencyFrom: false });
      emit(batchOf(markSweep(140, 1)));
      expect(events).toEqual([]);
      emit(batchOf(markSweep(160, 1))); // 62%: headroom medium
      expect(events.map((e) => [e.level, e.pressure])).toEqual([['medium', undefined]]);
      await memshed.stop();
    });

    it('escalates with the committed heap against the limit: medium at 60%, critical at 80%', async () => {
      const { emit, events, memshed } = await startSource({ efficiencyFrom: false });
      emit({ records: [], heap: heap(150) }); // 58%
      emit({ records: [], heap: heap(156) }); // 60.2%
      emit({ records: [], heap: heap(208) }); // 80.3%
      expect(events.map((e) => e.level)).toEqual(['medium', 'critical']);
      expect(events.every((e) => e.scope === '/v8' && e.source === 'v8')).toBe(true);
      await memshed.stop();
    });

    it('signals a level that holds again only every `repeat`, and a rise at once', async () => {
      const { emit, events, scheduler, memshed } = await startSource({ efficiencyFrom: false, repeat: '1s' });
      emit({ records: [], heap: heap(160) });
      scheduler.advanceBy(400);
      emit({ records: [], heap: heap(160) });
      scheduler.advanceBy(600);
      emit({ records: [], heap: heap(160) });
      emit({ records: [], heap: heap(220) });
      expect(events.map((e) => [e.level, e.time - 1_000_000])).toEqual([
        ['medium', 0],
        ['medium', 1000],
        ['critical', 1000],
      ]);
      await memshed.stop();
    });

    it('signals again at once after the heap fell below every threshold and rose again', async () => {
      const { emit, events, memshed } = await startSource({ efficiencyFrom: false });
      emit({ records: [], heap: heap(160) });
      emit({ records: [], heap: heap(20) });
      emit({ records: [], heap: heap(160) });
      expect(events.map((e) => e.level)).toEqual(['medium', 'medium']);
      await memshed.stop();
    });

    it('uses the scope, thresholds and external limit of its options', async () => {
      const { emit, events, memshed } = await startSource({
        scope: '/app/heap',
        low: '40%',
        medium: '50%',
        critical: '70%',
        efficiencyFrom: false,
        externalLimit: 100 * MiB,
      });
      emit({ records: [], heap: heap(110) }); // 42%
      emit({ records: [], heap: heap(130) }); // 50.2%
      emit({ records: [], heap: heap(10, { external: 75 * MiB }) }); // external at 75% of its limit
      expect(events.map((e) => [e.level, e.scope])).toEqual([
        ['low', '/app/heap'],
        ['medium', '/app/heap'],
        ['critical', '/app/heap'],
      ]);
      await memshed.stop();
    });

    it('reports a failure on errors$ and carries on', async () => {
      const { recorders, emit, events, errors, memshed } = await startSource({ efficiencyFrom: false });
      recorders[0].emit({ records: [], heap: undefined as unknown as HeapSample });
      expect(errors.map((e) => [e.kind, e.message.split(':')[0]])).toEqual([
        ['source-failed', "Source 'v8' failed to read a garbage collection"],
      ]);
      emit({ records: [], heap: heap(220) });
      expect(events.map((e) => e.level)).toEqual(['critical']);
      await memshed.stop();
    });

    it('fails to start, with the reason and a fix, where collections cannot be observed', async () => {
      const { memshed, errors, recorders } = await startSource({}, 'none');
      expect(memshed.sources[0].state).toBe('unavailable');
      expect(errors[0]?.message ?? memshed.sources[0].error?.message).toContain(
        'this runtime cannot observe garbage collections',
      );
      expect(recorders).toEqual([]);
      await memshed.stop();
    });

    it('uses the heap-statistics recorder when asked, and where GCProfiler is missing', async () => {
      const forced = await startSource({ recorder: 'heap-statistics' }, 'gc-profiler');
      expect(forced.recorders[0].kind).toBe('heap-statistics');
      await forced.memshed.stop();
      const fallback = await startSource({}, 'heap-statistics');
      expect(fallback.recorders[0].kind).toBe('heap-statistics');
      await fallback.memshed.stop();
      const missing = await startSource({ recorder: 'gc-profiler' }, 'heap-statistics');
      expect(missing.memshed.sources[0].state).toBe('unavailable');
      expect(missing.memshed.sources[0].error?.message).toContain('v8.GCProfiler is not available');
      await missing.memshed.stop();
    });
  });

  describe('.stop', () => {
    it('stops the recorder, and later batches do nothing', async () => {
      const { recorders, events, memshed } = await startSource({ efficiencyFrom: false });
      await memshed.stop();
      expect(recorders[0].running).toBe(false);
      recorders[0].emit({ records: [], heap: heap(220) });
      expect(events).toEqual([]);
    });
  });

  describe('.start (time to limit)', () => {
    it('reads the heap every 100 ms past half the limit and, with critical: 1s, is critical at 250 MiB/s before 80% committed', async () => {
      const { emit, setHeap, events, scheduler, memshed } = await startSource({
        efficiencyFrom: false,
        timeToLimit: { critical: '1s' },
      });
      emit({ records: [], heap: heap(130) }); // 50.2%: past the floor
      for (const committed of [155, 180]) {
        setHeap(heap(committed)); // grown between collections
        scheduler.advanceBy(100);
      }
      // 180 of 259 MiB: 60% is medium by the fraction, but the limit is 0.3 s away at 250 MiB/s.
      expect(events.map((e) => [e.level, e.time - 1_000_000, e.reason])).toEqual([
        ['critical', 200, 'heap limit in 0.3 s at 250 MiB/s'],
      ]);
      expect(memshed.sources[0].detail).toBe('heap growing 250 MiB/s, limit in 0.3 s');
      await memshed.stop();
    });

    it('reports the committed heap, its limit, growth rate and time to limit in memshed.sources[].headroom', async () => {
      const { emit, setHeap, scheduler, source, memshed } = await startSource({ efficiencyFrom: false });
      expect(memshed.sources[0].headroom).toEqual([]); // nothing read before the first collection
      const reading = (committedMiB: number, elapsed: number, growth?: number, timeToLimitMs = Infinity) => ({
        target: 'heap',
        usedBytes: committedMiB * MiB,
        limitBytes: LIMIT,
        growthBytesPerSecond: growth,
        timeToLimitMs,
        time: 1_000_000 + elapsed,
      });
      emit({ records: [], heap: heap(130) }); // past the floor: read every 100 ms from now on
      expect(memshed.sources[0].headroom).toEqual([reading(130, 0)]);
      setHeap(heap(155));
      scheduler.advanceBy(100);
      // One interval of growth is no trend yet (samples: 3).
      expect(memshed.sources[0].headroom).toEqual([reading(155, 100)]);
      setHeap(heap(180));
      scheduler.advanceBy(100);
      // 79 MiB left at 250 MiB/s.
      expect(memshed.sources[0].headroom).toEqual([reading(180, 200, 250 * MiB, 316)]);
      scheduler.advanceBy(100); // the heap stopped growing: no rate, the limit no longer comes
      expect(memshed.sources[0].headroom).toEqual([reading(180, 300)]);
      await memshed.stop();
      expect(source.headroom()).toEqual([]);
    });

    it('reports the heap against its limit without growth or time to limit with timeToLimit false', async () => {
      const { emit, memshed } = await startSource({ efficiencyFrom: false, timeToLimit: false });
      emit({ records: [], heap: heap(100) });
      expect(memshed.sources[0].headroom).toEqual([
        expect.objectContaining({
          target: 'heap',
          usedBytes: 100 * MiB,
          limitBytes: LIMIT,
          growthBytesPerSecond: undefined,
          timeToLimitMs: undefined,
        }),
      ]);
      await memshed.stop();
    });

    it('stops reading between collections below the floor, and reads nothing with timeToLimit false', async () => {
      const { emit, setHeap, scheduler, memshed, heapReads } = await startSource({ efficiencyFrom: false });
      emit({ records: [], heap: heap(140) });
      setHeap(heap(100));
      scheduler.advanceBy(100); // reads 100 MiB: below the floor, stops
      scheduler.advanceBy(10_000);
      expect(heapReads).toHaveBeenCalledTimes(1);
      await memshed.stop();

      const off = await startSource({ efficiencyFrom: false, timeToLimit: false });
      off.emit({ records: [], heap: heap(200) });
      off.scheduler.advanceBy(10_000);
      expect(off.heapReads).not.toHaveBeenCalled();
      await off.memshed.stop();
    });
  });

  describe('.availability', () => {
    it('says what it watches on this runtime', () => {
      const availability = new V8Source(v8SourceOptionsSchema.parse({})).availability();
      expect(availability).toEqual({
        available: true,
        detail: expect.stringMatching(
          /^V8 heap limit \d+ MiB, GC efficiency and headroom \(medium at 60% committed, critical at 80%, or when the limit is less than 3s \(medium\) away at the growth rate\)$/,
        ),
      });
    });
  });
});

describe('the v8 module', () => {
  it('is bound by the default module under id v8 and starts on the real runtime', async () => {
    const memshed = await createMemshed({ modules: [v8SourceModule], sources: [{ use: 'v8' }] });
    expect(memshed.sources.map((s) => [s.id, s.state])).toEqual([['v8', 'running']]);
    await memshed.stop();
  });

  it('rejects invalid options with the key path', async () => {
    await expect(
      createMemshed({ modules: [v8SourceModule], sources: [{ use: 'v8', with: { medium: '90%' } }] }),
    ).rejects.toThrow('sources[0].with.medium: medium must be below critical');
  });
});
