import { VMPRESSURE_CRITICAL_PRIORITY, VMPRESSURE_WINDOW } from '@memshed/core';
import type { LruPair, MemoryGroup } from './memory-group';
import type { Prng } from './prng';

// Math's functions held in module scope: a global lookup on every call is slow inside vm contexts (jest).
const { floor, max, min } = Math;

/** `DEF_PRIORITY`: the first reclaim pass scans `lru_size >> 12` pages of each list. */
export const DEF_PRIORITY = 12;
/** `SWAP_CLUSTER_MAX`: pages isolated per batch, and the least a memcg reclaim run tries to free. */
export const SWAP_CLUSTER_MAX = 32;
/** `MAX_RECLAIM_RETRIES`: full reclaim runs that may free nothing before a memcg charge goes OOM. */
export const MAX_RECLAIM_RETRIES = 16;

/**
 * The default of `machine.ioPerScan`: pages of read I/O in flight that complete while reclaim scans
 * one page (the disk's speed against reclaim's, on the machine's CPU). Fitted by the calibration
 * against the kernel on a quiet machine (test/calibration, docs/sources/vmscan-sim.md).
 */
export const IO_PER_SCAN = 0.22;

/** The machine's swap space, in pages. Anonymous pages are reclaimable only while it has room. */
export interface SwapSpace {
  /** Swap size in pages; 0 for none (the default, and this kind of machine). */
  readonly total: number;
  /** Pages in use. */
  used: number;
}

/** `struct scan_control`, the part the model needs. */
export interface ScanControl {
  /** Pages the run wants: `max(nr_pages, SWAP_CLUSTER_MAX)`. */
  readonly nrToReclaim: number;
  /** Pages reclaimed so far in this run. */
  nrReclaimed: number;
  /** Pages scanned (isolated from inactive lists) in the current priority pass. */
  nrScanned: number;
  /** The current priority: 12 down to 0; each pass scans `size >> priority` pages of each list. */
  priority: number;
}

// LRU indices in the kernel's order (for_each_evictable_lru).
const INACTIVE_ANON = 0;
const ACTIVE_ANON = 1;
const INACTIVE_FILE = 2;
const ACTIVE_FILE = 3;

/**
 * The reclaim path of mm/vmscan.c for memory cgroup limit reclaim, on the model's page counts:
 * `try_to_free_mem_cgroup_pages` -> `do_try_to_free_pages` (priority 12 down to 0, with
 * `vmpressure_prio` at each step) -> `shrink_node` (a round-robin walk of the target's subtree,
 * `vmpressure(tree = false)` per group and `vmpressure(tree = true)` for the target per pass, as the
 * seed's `shrink_zone` shows) -> `shrink_lruvec` (`get_scan_count`, batches of 32, proportional
 * scan adjustment) -> `shrink_inactive_list` (second chance: referenced pages are activated, the
 * others freed or swapped) and `shrink_active_list` (deactivation when the inactive list is low).
 *
 * The engine is fed only through the groups' nodes: `accountPriority(prio)` and
 * `account(scanned, reclaimed, tree)`, exactly where the kernel calls vmpressure.
 */
export class Vmscan {
  private readonly targets = new Float64Array(4);
  private readonly nr = new Float64Array(4);

  constructor(
    private readonly random: Prng,
    private readonly swap: SwapSpace,
    /** `vm.swappiness`, 0-200: the weight of anon against file scanning when swap has room. */
    private readonly swappiness: number,
    /** The engine window, for the model's own record of the synthetic windows of `vmpressure_prio`. */
    private readonly window: number = VMPRESSURE_WINDOW,
    /** Pages of read I/O in flight that complete while reclaim scans one page (`machine.ioPerScan`). */
    private readonly ioPerScan: number = IO_PER_SCAN,
  ) {}

  /**
   * `try_to_free_mem_cgroup_pages(memcg, nr_pages)`: one reclaim run on `target`'s subtree.
   * Returns the pages reclaimed (possibly more than asked, possibly none).
   */
  tryToFreeMemCgroupPages(target: MemoryGroup, nrPages: number): number {
    const sc: ScanControl = {
      nrToReclaim: max(nrPages, SWAP_CLUSTER_MAX),
      nrReclaimed: 0,
      nrScanned: 0,
      priority: DEF_PRIORITY,
    };
    target.stats.reclaimRuns++;
    let scanned = 0;
    do {
      // vmpressure_prio: each step of escalation reports its priority; <= 3 is a failed window.
      target.node?.accountPriority(sc.priority);
      if (sc.priority <= VMPRESSURE_CRITICAL_PRIORITY) target.stats.vmpressureScanned += this.window;
      sc.nrScanned = 0;
      this.shrinkNode(target, sc);
      scanned += sc.nrScanned;
      if (sc.nrReclaimed >= sc.nrToReclaim) break;
    } while (--sc.priority >= 0);
    // snapshot_refaults: the next run tells thrashing from the refaults since this one.
    for (const group of target.subtree) group.refaultsAtLastReclaim = group.stats.refaults;
    this.readIoDuringReclaim(target, scanned);
    return sc.nrReclaimed;
  }

  /**
   * The run took time, and the machine's reads in flight progressed meanwhile: `ioPerScan` pages of
   * read I/O for each page it scanned, completing by readahead batch (`MemoryGroup.progressReads`,
   * `folio_end_read`). A run that escalated over pages locked for read I/O scanned them again at
   * every priority (`shrink_folio_list`: `folio_trylock` fails, `goto keep`), so it took long; the
   * reads that completed meanwhile are found by the next run, since the pages this run kept went
   * back to the head of the list (`move_folios_to_lru`) behind its scan. The reader's reclaim is the
   * clock of a reader stalled on its reads: with little room for page cache, runs fail until a
   * batch completes, and the faster reclaim scans against the disk (a quiet CPU), the more of them
   * fail. Runs that free pages at once also take time, so when reclaim is slow enough against the
   * disk (`ioPerScan` >= 1 page per page freed) the reads keep ahead and runs no longer fail.
   */
  private readIoDuringReclaim(target: MemoryGroup, scanned: number): void {
    if (scanned === 0) return;
    const io = scanned * this.ioPerScan;
    const root = target.lineage[target.lineage.length - 1];
    for (const group of root.subtree) group.progressReads(io);
  }

  /** Whether anonymous pages can be reclaimed at all: only to swap, and only while it has room. */
  canReclaimAnon(): boolean {
    return this.swap.total - this.swap.used > 0;
  }

  /** `shrink_node` for memcg reclaim: the seed's `shrink_zone` loop body. */
  private shrinkNode(target: MemoryGroup, sc: ScanControl): void {
    const reclaimedBefore = sc.nrReclaimed;
    const scannedBefore = sc.nrScanned;
    const groups = target.subtree;
    const start = target.reclaimCursor % groups.length;
    for (let i = 0; i < groups.length; i++) {
      const index = (start + i) % groups.length;
      const group = groups[index];
      const reclaimed = sc.nrReclaimed;
      const scanned = sc.nrScanned;
      this.shrinkLruvec(group, sc);
      // Per-group, not for userland: the engine's socket-pressure state.
      group.node?.account(sc.nrScanned - scanned, sc.nrReclaimed - reclaimed, false);
      // Limit reclaim only cares about nr_to_reclaim: stop the walk, resume after this group next time.
      if (sc.nrReclaimed >= sc.nrToReclaim) {
        target.reclaimCursor = index + 1;
        break;
      }
    }
    const scanned = sc.nrScanned - scannedBefore;
    const reclaimed = sc.nrReclaimed - reclaimedBefore;
    if (scanned > 0) {
      target.stats.vmpressureScanned += scanned;
      target.stats.vmpressureReclaimed += reclaimed;
    }
    target.node?.account(scanned, reclaimed, true);
  }

  /** `shrink_lruvec`: scan the lists of one group in batches until their targets are met. */
  private shrinkLruvec(group: MemoryGroup, sc: ScanControl): void {
    // Reused buffers: this is the model's hot path, and it never re-enters itself.
    const targets = this.getScanCount(group, sc.priority, this.targets);
    const nr = this.nr;
    nr.set(targets);
    let reclaimed = 0;
    let scanAdjusted = false;
    while (nr[INACTIVE_ANON] || nr[ACTIVE_FILE] || nr[INACTIVE_FILE]) {
      for (let lru = INACTIVE_ANON; lru <= ACTIVE_FILE; lru++) {
        if (nr[lru]) {
          const batch = min(nr[lru], SWAP_CLUSTER_MAX);
          nr[lru] -= batch;
          reclaimed += this.shrinkList(lru, batch, group, sc);
        }
      }
      if (reclaimed < sc.nrToReclaim || scanAdjusted) continue;
      // Enough reclaimed: stop the smaller of anon and file, and scale the other down to the share
      // of its target already scanned ("one nudge towards proportionality").
      const nrFile = nr[INACTIVE_FILE] + nr[ACTIVE_FILE];
      const nrAnon = nr[INACTIVE_ANON] + nr[ACTIVE_ANON];
      if (!nrFile || !nrAnon) break;
      let smaller: number;
      let percentage: number;
      if (nrFile > nrAnon) {
        smaller = INACTIVE_ANON;
        percentage = floor((nrAnon * 100) / (targets[INACTIVE_ANON] + targets[ACTIVE_ANON] + 1));
      } else {
        smaller = INACTIVE_FILE;
        percentage = floor((nrFile * 100) / (targets[INACTIVE_FILE] + targets[ACTIVE_FILE] + 1));
      }
      nr[smaller] = 0;
      nr[smaller + 1] = 0;
      const other = smaller === INACTIVE_FILE ? INACTIVE_ANON : INACTIVE_FILE;
      for (let lru = other; lru <= other + 1; lru++) {
        const scanned = targets[lru] - nr[lru];
        nr[lru] = floor((targets[lru] * (100 - percentage)) / 100);
        nr[lru] -= min(nr[lru], scanned);
      }
      scanAdjusted = true;
    }
    sc.nrReclaimed += reclaimed;
    // Keep aging anon pages so that swap-backed reclaim has candidates next time.
    if (this.canReclaimAnon() && group.anon.inactiveIsLow()) {
      this.shrinkActiveList(SWAP_CLUSTER_MAX, group.anon);
    }
  }

  /**
   * `get_scan_count`: `size >> priority` for each list, balanced between anon and file. Without
   * swap room anon is not scanned at all (SCAN_FILE); at priority 0 both are scanned equally; with
   * enough inactive page cache only file is (cache trim mode); otherwise by swappiness (SCAN_FRACT,
   * with equal anon and file costs: anon gets swappiness/200).
   */
  getScanCount(group: MemoryGroup, priority: number, into: Float64Array = new Float64Array(4)): Float64Array {
    const divisor = 2 ** priority;
    let balance: 'file' | 'equal' | 'fract';
    if (!this.canReclaimAnon() || this.swappiness === 0) balance = 'file';
    else if (priority === 0) balance = 'equal';
    else if (floor(group.file.inactive.size / divisor) > 0 && !this.mayDeactivateFile(group))
      balance = 'file';
    else balance = 'fract';
    into[INACTIVE_ANON] = floor(group.anon.inactive.size / divisor);
    into[ACTIVE_ANON] = floor(group.anon.active.size / divisor);
    into[INACTIVE_FILE] = floor(group.file.inactive.size / divisor);
    into[ACTIVE_FILE] = floor(group.file.active.size / divisor);
    if (balance === 'file') {
      into[INACTIVE_ANON] = into[ACTIVE_ANON] = 0;
    } else if (balance === 'fract') {
      const anonWeight = this.swappiness;
      const fileWeight = 200 - this.swappiness;
      for (let lru = INACTIVE_ANON; lru <= ACTIVE_FILE; lru++) {
        const weight = lru >= INACTIVE_FILE ? fileWeight : anonWeight;
        into[lru] = floor((into[lru] * weight) / (anonWeight + fileWeight));
      }
    }
    return into;
  }

  /** File pages may be deactivated when the inactive list is low or the group is refaulting (thrashing). */
  private mayDeactivateFile(group: MemoryGroup): boolean {
    return group.file.inactiveIsLow() || group.stats.refaults !== group.refaultsAtLastReclaim;
  }

  /** `shrink_list`: active lists are only aged (when allowed); inactive lists are reclaimed from. */
  private shrinkList(lru: number, count: number, group: MemoryGroup, sc: ScanControl): number {
    if (lru === ACTIVE_ANON || lru === ACTIVE_FILE) {
      const pair = lru === ACTIVE_FILE ? group.file : group.anon;
      const mayDeactivate = lru === ACTIVE_FILE ? this.mayDeactivateFile(group) : pair.inactiveIsLow();
      if (mayDeactivate) this.shrinkActiveList(count, pair);
      return 0;
    }
    return this.shrinkInactiveList(count, group, lru === INACTIVE_FILE, sc);
  }

  /**
   * `shrink_active_list`: moves pages from the active list's tail to the inactive list, clearing
   * their referenced bits. Not counted as scanned: vmpressure sees only inactive scanning.
   */
  private shrinkActiveList(count: number, pair: LruPair): void {
    const take = min(count, pair.active.size);
    if (take === 0) return;
    const hot = this.random.hypergeometric(take, pair.active.hot, pair.active.cold);
    pair.active.moveTo(pair.inactive, hot, take - hot);
  }

  /**
   * `shrink_inactive_list` + `shrink_page_list`: isolates up to `count` pages from the inactive
   * tail (all of them count as scanned); hot pages found referenced get a second chance (activated);
   * the rest are freed (file: clean page cache) or swapped out (anon, while swap has room; without
   * room they are activated, as the kernel does when swap is full).
   */
  private shrinkInactiveList(count: number, group: MemoryGroup, file: boolean, sc: ScanControl): number {
    const pair = file ? group.file : group.anon;
    const list = pair.inactive;
    const all = min(count, list.size);
    if (all === 0) return 0;
    sc.nrScanned += all;
    // Pages locked for read I/O are the newest on the list: reached only once the older pages are
    // isolated, and kept (shrink_folio_list: folio_trylock fails, `goto keep`: back on the list).
    const take = min(all, list.hot + list.cold);
    if (take === 0) return 0;
    const hot = this.random.hypergeometric(take, list.hot, list.cold);
    const cold = take - hot;
    const referenced = this.random.binomial(hot, group.hotReference);
    list.moveTo(pair.active, referenced, 0);
    let evictHot = hot - referenced;
    let evictCold = cold;
    if (file) {
      group.forgetColdFile(evictCold, this.random);
    } else {
      const room = this.swap.total - this.swap.used;
      const keepCold = max(0, evictCold - room);
      const keepHot = max(0, evictHot - max(0, room - evictCold));
      list.moveTo(pair.active, keepHot, keepCold);
      evictHot -= keepHot;
      evictCold -= keepCold;
      group.swappedHot += evictHot;
      group.swappedCold += evictCold;
      this.swap.used += evictHot + evictCold;
    }
    list.hot -= evictHot;
    list.cold -= evictCold;
    group.uncharge(evictHot + evictCold);
    return evictHot + evictCold;
  }
}
