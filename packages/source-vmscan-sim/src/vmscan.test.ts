import type { PressureNode } from '@memshed/core';
import { MemoryGroup } from './memory-group';
import { Prng } from './prng';
import { DEF_PRIORITY, SWAP_CLUSTER_MAX, Vmscan, type SwapSpace } from './vmscan';

type Call = ['prio', number] | ['account', number, number, boolean];

/** A node that records what reclaim tells the engine. */
function recordingNode(calls: Call[]): PressureNode {
  return {
    account: (scanned: number, reclaimed: number, tree = true) =>
      calls.push(['account', scanned, reclaimed, tree]),
    accountPriority: (priority: number) => calls.push(['prio', priority]),
  } as unknown as PressureNode;
}

function group(path = '/sim', limit = Infinity, parent?: MemoryGroup): MemoryGroup {
  return new MemoryGroup(path, limit, parent);
}

/** Puts pages on a group's lists and charges them. */
function fill(
  target: MemoryGroup,
  pages: { inactiveFile?: [number, number]; activeFile?: [number, number]; inactiveAnon?: [number, number] },
): void {
  const [ih, ic] = pages.inactiveFile ?? [0, 0];
  const [ah, ac] = pages.activeFile ?? [0, 0];
  const [nh, nc] = pages.inactiveAnon ?? [0, 0];
  target.file.inactive.hot += ih;
  target.file.inactive.cold += ic;
  target.file.active.hot += ah;
  target.file.active.cold += ac;
  target.anon.inactive.hot += nh;
  target.anon.inactive.cold += nc;
  target.charge(ih + ic + ah + ac + nh + nc);
}

const noSwap = (): SwapSpace => ({ total: 0, used: 0 });

/** getScanCount by priority for a group filled with `pages`, with `swap` and swappiness 60. */
function scanCountsOf(pages: Parameters<typeof fill>[1], swap: SwapSpace): (priority: number) => number[] {
  const target = group();
  fill(target, pages);
  const vmscan = new Vmscan(new Prng(1), swap, 60);
  return (priority) => [...vmscan.getScanCount(target, priority)];
}

describe(Vmscan, () => {
  describe('.getScanCount', () => {
    // Per case: the lists' [hot, cold] pages, the swap space, and the scan counts by priority.
    it.each<[string, Parameters<typeof fill>[1], SwapSpace, Record<number, number[]>]>([
      [
        'scans lru_size >> priority of the file lists, and no anon without swap',
        { inactiveFile: [0, 4096], activeFile: [8192, 0], inactiveAnon: [10_000, 0] },
        noSwap(),
        { 12: [0, 0, 1, 2], 4: [0, 0, 256, 512], 0: [0, 0, 4096, 8192] },
      ],
      [
        'balances anon and file by swappiness with swap, and scans both equally at priority 0',
        // Inactive file below active: the file list may be deactivated, so no cache trim mode.
        { inactiveFile: [0, 4096], activeFile: [8192, 0], inactiveAnon: [0, 10_000] },
        { total: 100_000, used: 0 },
        // anon 10000 >> 4 = 625, * 60/200; file 256 and 512, * 140/200.
        { 4: [187, 0, 179, 358], 0: [10_000, 0, 4096, 8192] },
      ],
      [
        'trims page cache only while the inactive file list is large enough (cache trim mode)',
        { inactiveFile: [0, 8192], activeFile: [4096, 0], inactiveAnon: [0, 10_000] },
        { total: 100_000, used: 0 },
        { 4: [0, 0, 512, 256] },
      ],
    ])('%s', (_behaviour, pages, swap, countsByPriority) => {
      const scanCount = scanCountsOf(pages, swap);
      for (const [priority, counts] of Object.entries(countsByPriority)) {
        expect([priority, scanCount(Number(priority))]).toEqual([priority, counts]);
      }
    });
  });

  describe('.tryToFreeMemCgroupPages', () => {
    it('stops at the first priority that frees nr_to_reclaim, and accounts that pass', () => {
      const calls: Call[] = [];
      const target = group('/sim', 300_000);
      target.node = recordingNode(calls);
      fill(target, { inactiveFile: [0, 262_144] });
      const reclaimed = new Vmscan(new Prng(1), noSwap(), 60).tryToFreeMemCgroupPages(target, 1);
      // 262144 >> 12 = 64 pages to scan; the first batch of 32 cold pages is enough.
      expect(reclaimed).toBe(SWAP_CLUSTER_MAX);
      expect(calls).toEqual([
        ['prio', DEF_PRIORITY],
        ['account', 32, 32, false],
        ['account', 32, 32, true],
      ]);
      expect(target.usage).toBe(262_144 - 32);
      expect(target.stats).toMatchObject({ vmpressureScanned: 32, vmpressureReclaimed: 32, reclaimRuns: 1 });
    });

    it('escalates priority 12 to 0 when every page is referenced, giving each a second chance', () => {
      const calls: Call[] = [];
      const target = group('/sim', 1000);
      target.node = recordingNode(calls);
      target.hotReference = 1;
      fill(target, { inactiveFile: [1000, 0] });
      const reclaimed = new Vmscan(new Prng(1), noSwap(), 60).tryToFreeMemCgroupPages(target, 1);
      expect(reclaimed).toBe(0);
      const priorities = calls.filter((c) => c[0] === 'prio').map((c) => c[1]);
      expect(priorities).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      // One userland account per pass, right after its priority, with nothing reclaimed.
      const tree = calls.filter((c) => c[0] === 'account' && c[3]);
      expect(tree).toHaveLength(13);
      expect(tree.every((c) => c[2] === 0)).toBe(true);
      // Scanned pages were activated, not freed.
      expect(target.usage).toBe(1000);
      expect(target.file.active.hot).toBeGreaterThan(0);
      expect(target.file.active.hot + target.file.inactive.hot).toBe(1000);
      // The synthetic windows of vmpressure_prio (priorities 3..0) are in the model's record.
      expect(target.stats.vmpressureScanned).toBeGreaterThanOrEqual(4 * 512);
    });

    it('scans nothing in anonymous memory without swap (scanned 0: the engine keeps calm)', () => {
      const calls: Call[] = [];
      const target = group('/sim', 100);
      target.node = recordingNode(calls);
      fill(target, { inactiveAnon: [0, 100] });
      expect(new Vmscan(new Prng(1), noSwap(), 60).tryToFreeMemCgroupPages(target, 1)).toBe(0);
      expect(calls.filter((c) => c[0] === 'account').every((c) => c[1] === 0)).toBe(true);
      expect(target.anon.size).toBe(100);
      expect(target.stats.vmpressureScanned).toBe(4 * 512);
    });

    it('swaps cold anonymous pages out when swap has room', () => {
      const swap = { total: 10_000, used: 0 };
      const target = group('/sim', 50_000);
      fill(target, { inactiveAnon: [0, 40_000] });
      const reclaimed = new Vmscan(new Prng(1), swap, 60).tryToFreeMemCgroupPages(target, 1);
      expect(reclaimed).toBeGreaterThanOrEqual(SWAP_CLUSTER_MAX);
      expect(swap.used).toBe(reclaimed);
      expect(target.swappedCold).toBe(reclaimed);
      expect(target.usage).toBe(40_000 - reclaimed);
    });

    it('keeps anonymous pages once swap is full', () => {
      const swap = { total: 10, used: 10 };
      const target = group('/sim', 100);
      fill(target, { inactiveAnon: [0, 100] });
      expect(new Vmscan(new Prng(1), swap, 60).tryToFreeMemCgroupPages(target, 1)).toBe(0);
      expect(target.usage).toBe(100);
    });

    it('deactivates active pages when the inactive list runs low', () => {
      const target = group('/sim', 20_000);
      target.hotReference = 1;
      fill(target, { inactiveFile: [100, 0], activeFile: [10_000, 0] });
      new Vmscan(new Prng(1), noSwap(), 60).tryToFreeMemCgroupPages(target, 1);
      expect(target.file.active.size).toBeLessThan(10_000 + 100);
      expect(target.file.inactive.size + target.file.active.size).toBe(10_100);
    });

    it("walks the target's subtree round-robin, accounting tree = true only to the target", () => {
      const parentCalls: Call[] = [];
      const aCalls: Call[] = [];
      const bCalls: Call[] = [];
      const parent = group('/sim', 1_000_000);
      const a = group('/sim/a', Infinity, parent);
      const b = group('/sim/b', Infinity, parent);
      parent.node = recordingNode(parentCalls);
      a.node = recordingNode(aCalls);
      b.node = recordingNode(bCalls);
      fill(a, { inactiveFile: [0, 262_144] });
      fill(b, { inactiveFile: [0, 262_144] });
      const vmscan = new Vmscan(new Prng(1), noSwap(), 60);
      vmscan.tryToFreeMemCgroupPages(parent, 1);
      // The parent has no pages of its own; `a` satisfies the run, so `b` waits for the next one.
      expect(a.usage).toBe(262_144 - 32);
      expect(b.usage).toBe(262_144);
      vmscan.tryToFreeMemCgroupPages(parent, 1);
      expect(b.usage).toBe(262_144 - 32);
      expect(parent.usage).toBe(2 * 262_144 - 64);
      expect(parentCalls.filter((c) => c[0] === 'account' && c[3])).toEqual([
        ['account', 32, 32, true],
        ['account', 32, 32, true],
      ]);
      // Children only hear about their own scanning, and only as tree = false (socket pressure).
      expect(aCalls).toEqual([['account', 32, 32, false]]);
      expect(bCalls).toEqual([['account', 32, 32, false]]);
    });
  });
});

describe('pages under read I/O', () => {
  it('are the newest on the list: reclaim frees the older pages first, at full efficiency', () => {
    const target = group('/sim', 10_000);
    fill(target, { inactiveFile: [0, 1_000] });
    target.readaheadPages = 500;
    target.addReadPages(600); // 100 complete at once: only the window stays locked
    target.charge(600);
    expect(target.file.inactive).toMatchObject({ cold: 1_100, locked: 500 });
    const calls: Call[] = [];
    target.node = recordingNode(calls);
    const vmscan = new Vmscan(new Prng(1), noSwap(), 60);
    expect(vmscan.tryToFreeMemCgroupPages(target, 32)).toBeGreaterThanOrEqual(32);
    const accounted = calls.filter((call) => call[0] === 'account');
    expect(accounted.every(([, scanned, reclaimed]) => scanned === reclaimed)).toBe(true);
    expect(target.file.inactive.locked).toBe(500);
  });

  it('are scanned but not freed: the run escalates to critical priorities over them', () => {
    const target = group('/sim', 10_000);
    target.readaheadPages = 2_000;
    target.addReadPages(2_010);
    target.charge(2_010);
    const calls: Call[] = [];
    target.node = recordingNode(calls);
    const vmscan = new Vmscan(new Prng(1), noSwap(), 60, 512, 0.1);
    // 10 unlocked pages: fewer than nr_to_reclaim, so the run goes down to priority 0.
    expect(vmscan.tryToFreeMemCgroupPages(target, 32)).toBe(10);
    expect(calls).toContainEqual(['prio', 0]);
    const tree = calls.filter(
      (call): call is ['account', number, number, boolean] => call[0] === 'account' && call[3],
    );
    const scanned = tree.reduce((sum, [, s]) => sum + s, 0);
    expect(scanned).toBeGreaterThan(2_000); // the locked pages, scanned at several priorities
    expect(tree.reduce((sum, [, , r]) => sum + r, 0)).toBe(10);
    // The run took time: the reads progressed by 0.1 page per page scanned, short of a whole batch
    // (half the window: 1,000 pages), so nothing completed yet.
    expect(target.readIoDone).toBeCloseTo(scanned * 0.1);
    expect(target.file.inactive.locked).toBe(2_000);
  });

  it('complete a readahead batch at a time while reclaim runs; the run after that frees at once', () => {
    /** Runs until one frees nr_to_reclaim; returns how many failed before it, and what is left locked. */
    const untilFree = (ioPerScan: number) => {
      const target = group('/sim', 10_000);
      target.readaheadPages = 2_000;
      target.addReadPages(2_000);
      target.charge(2_000);
      const vmscan = new Vmscan(new Prng(1), noSwap(), 60, 512, ioPerScan);
      let failed = 0;
      while (vmscan.tryToFreeMemCgroupPages(target, 32) === 0 && failed < 100) failed++;
      return { failed, locked: target.file.inactive.locked };
    };
    // A failing run scans the 2,000 locked pages about twice (~4,000 pages); batches are 1,000
    // pages. What completes while a run goes on is found by the next one, so the first always fails.
    expect(untilFree(0.5)).toEqual({ failed: 1, locked: 0 }); // both batches during the first run
    expect(untilFree(0.3)).toEqual({ failed: 1, locked: 1_000 });
    expect(untilFree(0.2)).toEqual({ failed: 2, locked: 1_000 });
    expect(untilFree(0.1)).toEqual({ failed: 3, locked: 1_000 });
    expect(untilFree(0.02)).toEqual({ failed: 13, locked: 1_000 });
  });
});

describe('MemoryGroup.progressReads', () => {
  it('completes whole readahead batches (half the window), oldest first, and banks nothing while idle', () => {
    const target = group('/sim', 10_000);
    target.readaheadPages = 1_000;
    target.progressReads(600); // nothing in flight: an idle disk does not get ahead
    expect(target.readIoDone).toBe(0);
    target.addReadPages(1_000);
    target.progressReads(499);
    expect(target.file.inactive).toMatchObject({ locked: 1_000, cold: 0 });
    target.progressReads(1);
    expect(target.file.inactive).toMatchObject({ locked: 500, cold: 500 });
    target.progressReads(2_000); // the last batch, and then nothing left in flight
    expect(target.file.inactive).toMatchObject({ locked: 0, cold: 1_000 });
    expect(target.readIoDone).toBe(0);
  });
});
