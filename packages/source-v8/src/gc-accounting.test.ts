import { readFileSync } from 'node:fs';
import path from 'node:path';
import { vmpressureLevel, vmpressurePercent } from '@memshed/core';
import { PAGE_SIZE, headroomLevel, reclaimPass, type GcRecord, type HeapSample } from './gc-accounting';
import { gcRecordsFromProfile } from './gc-recorder';

/** Recorded with v8.GCProfiler on Node 20.20: a JS-string cache growing at 25 MB/s in a 512M cgroup. */
const cacheGrowth = gcRecordsFromProfile(
  JSON.parse(readFileSync(path.join(__dirname, '__fixtures__/gc-profile-cache.json'), 'utf8')),
);
/** Recorded the same way: a service whose request garbage dies young, small live set. */
const healthy = gcRecordsFromProfile(
  JSON.parse(readFileSync(path.join(__dirname, '__fixtures__/gc-profile-healthy.json'), 'utf8')),
);

const MiB = 1024 * 1024;

function heap(overrides: Partial<HeapSample> = {}): HeapSample {
  return {
    used: 100 * MiB,
    committed: 120 * MiB,
    limit: 200 * MiB,
    external: 0,
    young: 2 * MiB,
    ...overrides,
  };
}

function record(type: string, before: Partial<HeapSample>, after: Partial<HeapSample>): GcRecord {
  return { type, cost: 1000, before: heap(before), after: heap(after) };
}

/** The level of one window made of `records`, as the engine computes it. */
function windowLevel(records: readonly GcRecord[]) {
  let scanned = 0;
  let reclaimed = 0;
  for (const r of records) {
    const pass = reclaimPass(r);
    if (pass) {
      scanned += pass.scanned;
      reclaimed += pass.reclaimed;
    }
  }
  return { scanned, reclaimed, level: vmpressureLevel(scanned, reclaimed) };
}

describe('reclaimPass', () => {
  it('counts a scavenge as examining the young generation and freeing the fall of used heap', () => {
    const pass = reclaimPass(record('Scavenge', { young: 2 * MiB, used: 100 * MiB }, { used: 99 * MiB }));
    expect(pass).toEqual({ scanned: (2 * MiB) / PAGE_SIZE, reclaimed: MiB / PAGE_SIZE });
  });

  it('counts a mark-sweep as examining the whole used heap', () => {
    const pass = reclaimPass(record('MarkSweepCompact', { used: 100 * MiB }, { used: 90 * MiB }));
    expect(pass).toEqual({ scanned: (100 * MiB) / PAGE_SIZE, reclaimed: (10 * MiB) / PAGE_SIZE });
  });

  it('treats the young collections of newer V8 versions as scavenges', () => {
    expect(reclaimPass(record('MinorMarkSweep', { young: MiB }, {}))?.scanned).toBe(MiB / PAGE_SIZE);
    expect(reclaimPass(record('MinorMarkCompact', { young: MiB }, {}))?.scanned).toBe(MiB / PAGE_SIZE);
  });

  it('ignores steps that are not collections', () => {
    expect(reclaimPass(record('IncrementalMarking', {}, { used: 0 }))).toBeUndefined();
    expect(reclaimPass(record('ProcessWeakCallbacks', {}, { used: 0 }))).toBeUndefined();
    expect(reclaimPass(record('Unknown', {}, { used: 0 }))).toBeUndefined();
  });

  it('ignores a collection that examined nothing, as the kernel keeps calm on scanned == 0', () => {
    expect(reclaimPass(record('Scavenge', { young: 0 }, {}))).toBeUndefined();
  });

  it('counts growth across a collection as nothing freed, and never frees more than it examined', () => {
    expect(reclaimPass(record('Scavenge', { young: MiB, used: 10 * MiB }, { used: 11 * MiB }))).toEqual({
      scanned: 256,
      reclaimed: 0,
    });
    expect(reclaimPass(record('Scavenge', { young: MiB, used: 10 * MiB }, { used: MiB }))).toEqual({
      scanned: 256,
      reclaimed: 256,
    });
  });

  it('finds a growing cache under pressure from recorded collections: scavenges medium, the mark-sweep critical', () => {
    const scavenges = cacheGrowth.filter((r) => r.type === 'Scavenge');
    const markSweep = cacheGrowth.filter((r) => r.type === 'MarkSweepCompact');
    expect(scavenges).toHaveLength(4);
    expect(markSweep).toHaveLength(1);
    const young = windowLevel(scavenges);
    expect(young.level).toBe('medium');
    expect(vmpressurePercent(young.scanned, young.reclaimed)).toBeGreaterThanOrEqual(85);
    const full = windowLevel(markSweep);
    expect(full.scanned).toBe(Math.ceil(182425256 / PAGE_SIZE));
    expect(full.level).toBe('critical');
  });

  it('finds a service whose garbage dies young at low pressure from recorded collections', () => {
    const window = windowLevel(healthy);
    expect(window.scanned).toBeGreaterThanOrEqual(512);
    expect(vmpressurePercent(window.scanned, window.reclaimed)).toBeLessThan(5);
    expect(window.level).toBe('low');
  });
});

describe('headroomLevel', () => {
  const thresholds = { medium: 0.6, critical: 0.8 };

  it('judges the committed heap against the limit, not the used heap', () => {
    expect(headroomLevel(heap({ used: 50 * MiB, committed: 119 * MiB }), thresholds)).toBeUndefined();
    expect(headroomLevel(heap({ used: 50 * MiB, committed: 120 * MiB }), thresholds)).toBe('medium');
    expect(headroomLevel(heap({ used: 50 * MiB, committed: 160 * MiB }), thresholds)).toBe('critical');
  });

  it('signals low only when a low threshold is set', () => {
    expect(headroomLevel(heap({ committed: 100 * MiB }), thresholds)).toBeUndefined();
    expect(headroomLevel(heap({ committed: 100 * MiB }), { ...thresholds, low: 0.5 })).toBe('low');
  });

  it('takes the higher of heap and external memory when an external limit is set', () => {
    const sample = heap({ committed: 20 * MiB, external: 90 * MiB });
    expect(headroomLevel(sample, thresholds)).toBeUndefined();
    expect(headroomLevel(sample, { ...thresholds, externalLimit: 100 * MiB })).toBe('critical');
  });

  it('says critical for the recorded cache growth at 89% of its limit', () => {
    const last = cacheGrowth[cacheGrowth.length - 1].after;
    expect(last.committed / last.limit).toBeCloseTo(0.89, 2);
    expect(headroomLevel(last, thresholds)).toBe('critical');
  });
});
