import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  HeapStatisticsGcRecorder,
  ProfilerGcRecorder,
  createGcRecorder,
  currentHeapSample,
  detectGcRecorderKind,
  gcRecordsFromProfile,
  type GcBatch,
  type GcRecorder,
} from './gc-recorder';

/** Allocates short-lived garbage until `recorder` hands over a batch (young collections are certain). */
async function firstBatch(recorder: GcRecorder): Promise<GcBatch> {
  const errors: unknown[] = [];
  const batch = new Promise<GcBatch>((resolve) => recorder.start(resolve, (error) => errors.push(error)));
  let sink = 0;
  const deadline = Date.now() + 5000;
  for (;;) {
    for (let i = 0; i < 20_000; i++) sink += { i, text: `garbage-${i}` }.text.length;
    const winner = await Promise.race([batch, new Promise((resolve) => setImmediate(resolve, undefined))]);
    if (winner !== undefined) {
      recorder.stop();
      expect(errors).toEqual([]);
      expect(sink).toBeGreaterThan(0);
      return winner as GcBatch;
    }
    if (Date.now() > deadline) throw new Error('no garbage collection observed in 5 s');
  }
}

describe('gcRecordsFromProfile', () => {
  it('turns recorded GCProfiler statistics into records with young generation, committed heap and limit', () => {
    const profile = JSON.parse(
      readFileSync(path.join(__dirname, '__fixtures__/gc-profile-cache.json'), 'utf8'),
    );
    const records = gcRecordsFromProfile(profile);
    expect(records.map((r) => r.type)).toEqual([
      'Scavenge',
      'Scavenge',
      'Scavenge',
      'Scavenge',
      'IncrementalMarking',
      'MarkSweepCompact',
    ]);
    expect(records[0]).toEqual({
      type: 'Scavenge',
      cost: profile.statistics[0].cost,
      before: {
        used: 180903040,
        committed: 241410048,
        limit: 271581184,
        external: expect.any(Number),
        young: 970720,
      },
      after: expect.objectContaining({ used: 180780008, committed: 241934336 }),
    });
  });
});

describe('detectGcRecorderKind', () => {
  it('finds v8.GCProfiler on Node 20', () => {
    expect(detectGcRecorderKind()).toBe('gc-profiler');
  });
});

describe('createGcRecorder', () => {
  it('creates the recorder of each kind', () => {
    expect(createGcRecorder('gc-profiler')).toBeInstanceOf(ProfilerGcRecorder);
    expect(createGcRecorder('heap-statistics')).toBeInstanceOf(HeapStatisticsGcRecorder);
  });
});

describe(ProfilerGcRecorder, () => {
  describe('.start', () => {
    it('hands over the collections of this process with the heap after the last one', async () => {
      const batch = await firstBatch(new ProfilerGcRecorder());
      expect(batch.records.length).toBeGreaterThan(0);
      expect(batch.heap).toBe(batch.records[batch.records.length - 1].after);
      expect(batch.heap.limit).toBe(currentHeapSample().limit);
      for (const record of batch.records) {
        expect(record.before.committed).toBeGreaterThan(0);
        if (record.type === 'Scavenge') expect(record.before.young).toBeGreaterThan(0);
      }
    });

    it('reports a failing batch handler to onError instead of throwing into the host', async () => {
      const recorder = new ProfilerGcRecorder();
      const failure = new Promise<unknown>((resolve) =>
        recorder.start(() => {
          throw new Error('handler failed');
        }, resolve),
      );
      const garbage: object[] = [];
      let error: unknown;
      for (let round = 0; round < 500 && error === undefined; round++) {
        for (let i = 0; i < 20_000; i++) garbage[i % 100] = { i, text: `garbage-${i}` };
        error = await Promise.race([failure, new Promise((resolve) => setImmediate(resolve, undefined))]);
      }
      recorder.stop();
      expect(error).toEqual(new Error('handler failed'));
    });
  });

  describe('.start (window)', () => {
    it('hands over at most one batch per window, with every collection of the window in it', async () => {
      const recorder = new ProfilerGcRecorder(200);
      const batches: { at: number; records: number }[] = [];
      recorder.start(
        (batch) => batches.push({ at: performance.now(), records: batch.records.length }),
        (error) => {
          throw error;
        },
      );
      const garbage: object[] = [];
      const end = performance.now() + 1100;
      while (performance.now() < end) {
        for (let i = 0; i < 20_000; i++) garbage[i % 100] = { i, text: `garbage-${i}` };
        await new Promise((resolve) => setImmediate(resolve));
      }
      recorder.stop();
      const gaps = batches.slice(1).map((batch, i) => batch.at - batches[i].at);
      const collections = batches.reduce((sum, batch) => sum + batch.records, 0);
      expect(batches.length).toBeGreaterThanOrEqual(2);
      expect(batches.length).toBeLessThanOrEqual(7);
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(190);
      expect(collections).toBeGreaterThan(batches.length); // several collections per window
    });
  });

  describe('.stop', () => {
    it('is idempotent', () => {
      const recorder = new ProfilerGcRecorder();
      recorder.start(
        () => undefined,
        () => undefined,
      );
      recorder.stop();
      expect(() => recorder.stop()).not.toThrow();
    });
  });
});

describe(HeapStatisticsGcRecorder, () => {
  describe('.start', () => {
    it('hands over the heap after collections, without per-collection records', async () => {
      const batch = await firstBatch(new HeapStatisticsGcRecorder());
      expect(batch.records).toEqual([]);
      expect(batch.heap.committed).toBeGreaterThan(0);
      expect(batch.heap.limit).toBe(currentHeapSample().limit);
    });
  });
});
