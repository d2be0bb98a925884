import type { PressureNode } from '@memshed/core';
import type { Prng } from './prng';
import type { ScenarioGroup } from './scenario';
import { PAGE_SIZE } from './units';

// Math's functions held in module scope: a global lookup on every call is slow inside vm contexts (jest).
const { floor, max, min, round, sqrt } = Math;

/**
 * One LRU list of a memory group, as counts of pages by temperature. The model does not track
 * pages one by one: a reclaim pass draws which of the pages it takes are hot.
 */
export class LruList {
  /** Working-set pages: referenced again, with the owner's probability, by the time reclaim looks at them. */
  hot = 0;
  /** Pages nobody is coming back for soon: read once, leaked, stale. Reclaimable at the first look. */
  cold = 0;
  /**
   * Cold page cache still locked for read I/O (readahead in flight): the newest pages of the list,
   * which reclaim reaches only after every other page and cannot free (`shrink_folio_list`:
   * `folio_trylock` fails). They turn cold when their I/O completes.
   */
  locked = 0;

  /** Pages on the list. */
  get size(): number {
    return this.hot + this.cold + this.locked;
  }

  /** Moves `hot` + `cold` pages from this list to `to`. */
  moveTo(to: LruList, hot: number, cold: number): void {
    this.hot -= hot;
    this.cold -= cold;
    to.hot += hot;
    to.cold += cold;
  }
}

/** The active and inactive lists of one type (file or anon) of one group: half of a kernel `lruvec`. */
export class LruPair {
  /** Pages that proved useful: reclaim only ages them (deactivation), never frees them directly. */
  readonly active = new LruList();
  /** Where reclaim looks for pages to free; new pages start here. */
  readonly inactive = new LruList();

  /** Pages on both lists. */
  get size(): number {
    return this.active.size + this.inactive.size;
  }

  /** Hot pages on both lists. */
  get hot(): number {
    return this.active.hot + this.inactive.hot;
  }

  /** Cold pages on both lists. */
  get cold(): number {
    return this.active.cold + this.inactive.cold;
  }

  /**
   * `inactive_is_low()`: whether the inactive list is small against the active one, the signal
   * that active pages should be aged. The target ratio grows with the square root of the size
   * (`int_sqrt(10 * gb)`), 1 below 1 GiB.
   */
  inactiveIsLow(): boolean {
    const inactive = this.inactive.size;
    const active = this.active.size;
    const gigabytes = floor((inactive + active) / 262_144);
    const ratio = gigabytes ? floor(sqrt(10 * gigabytes)) : 1;
    return inactive * ratio < active;
  }

  /**
   * Removes `count` pages of one temperature from both lists, in proportion to what each holds
   * (freeing memory does not care about list position). Returns how many were removed.
   */
  remove(temperature: 'hot' | 'cold', count: number): number {
    const active = this.active[temperature];
    const inactive = this.inactive[temperature];
    const take = min(count, active + inactive);
    if (take <= 0) return 0;
    const fromInactive = min(inactive, round((take * inactive) / (active + inactive)));
    this.inactive[temperature] -= fromInactive;
    this.active[temperature] -= take - fromInactive;
    return take;
  }
}

/** Reclaim and fault counters of a group, cumulative since the start. */
export interface MemoryGroupStats {
  /** Pages scanned by reclaim passes that targeted this group, plus the synthetic windows of priority escalation. */
  vmpressureScanned: number;
  /** Pages reclaimed by those passes. */
  vmpressureReclaimed: number;
  /** Working-set pages faulted back after reclaim took them (file refaults and swap-ins). */
  refaults: number;
  /** Reclaim runs (`try_to_free_mem_cgroup_pages` calls) that targeted this group. */
  reclaimRuns: number;
  /** OOM kills decided in this group. */
  oomKills: number;
}

/**
 * A memory cgroup of the simulation: a page counter with a limit that counts the pages of the
 * group and of every descendant (hierarchical charging, as cgroup v1 with use_hierarchy and v2),
 * and the group's own LRU lists.
 */
export class MemoryGroup {
  /** Child groups, in scenario order. */
  readonly children: MemoryGroup[] = [];
  /** Page cache charged to this group. */
  readonly file = new LruPair();
  /** Anonymous memory charged to this group (heap, caches, services of its workload). */
  readonly anon = new LruPair();
  /** Anonymous pages of this group swapped out: not in memory, not in `usage`. */
  swappedHot = 0;
  /** See {@link swappedHot}. */
  swappedCold = 0;
  /** Of the cold file pages, how many belong to the workload's data set (the rest were streamed). */
  fileColdData = 0;
  /** Pages charged to this group and its descendants (`memory.usage_in_bytes` / 4096). */
  usage = 0;
  /** Reclaim counters. */
  readonly stats: MemoryGroupStats = {
    vmpressureScanned: 0,
    vmpressureReclaimed: 0,
    refaults: 0,
    reclaimRuns: 0,
    oomKills: 0,
  };
  /** This group and its ancestors, nearest first: the page counters a charge goes through. */
  readonly lineage: readonly MemoryGroup[];
  /** Where the round-robin walk of this group's subtree resumes (the kernel's reclaim cookie). */
  reclaimCursor = 0;
  /** The refault count when reclaim last looked at this group, to tell whether the file cache is thrashing. */
  refaultsAtLastReclaim = 0;
  /** Probability that reclaim finds a hot page of this group referenced (its workload's `hot`). */
  hotReference = 0.9;
  /**
   * Pages of the newest reads that stay locked for read I/O (its workload's `readahead`): the
   * readahead window in flight, two readahead batches (the one being read and the async one ahead).
   */
  readaheadPages = 0;
  /**
   * Read I/O done, in pages, towards the oldest readahead batch still in flight: it completes as a
   * whole once this reaches its size (see {@link progressReads}).
   */
  readIoDone = 0;
  /** The engine node fed by reclaim that targets this group, once the source has started. */
  node: PressureNode | undefined;
  private subtreeCache: MemoryGroup[] | undefined;

  constructor(
    /** The engine path, e.g. `/sim/app`. */
    readonly path: string,
    /** The limit in pages; Infinity for none. */
    readonly limit: number,
    /** The parent group, undefined for the simulation's root. */
    readonly parent: MemoryGroup | undefined,
  ) {
    parent?.children.push(this);
    this.lineage = parent ? [this, ...parent.lineage] : [this];
  }

  /** This group and its descendants, parents first (the order of `mem_cgroup_iter`). */
  get subtree(): readonly MemoryGroup[] {
    if (!this.subtreeCache) {
      this.subtreeCache = [this];
      for (const child of this.children) this.subtreeCache.push(...child.subtree);
    }
    return this.subtreeCache;
  }

  /** Pages this group can still charge before it or an ancestor hits its limit. */
  margin(): number {
    let margin = Infinity;
    for (const group of this.lineage) margin = min(margin, group.limit - group.usage);
    return margin;
  }

  /**
   * The group that fails a charge of `pages` here: the nearest of this group and its ancestors
   * that would pass its limit (`mem_over_limit`), or undefined when the charge fits.
   */
  overLimit(pages: number): MemoryGroup | undefined {
    for (const group of this.lineage) if (group.usage + pages > group.limit) return group;
    return undefined;
  }

  /** Adds `pages` to this group's counter and every ancestor's (`page_counter_charge`). */
  charge(pages: number): void {
    for (const group of this.lineage) group.usage += pages;
  }

  /** Takes `pages` off this group's counter and every ancestor's. */
  uncharge(pages: number): void {
    for (const group of this.lineage) group.usage -= pages;
  }

  /** Pages of this group's own lists (without descendants). */
  get ownPages(): number {
    return this.file.size + this.anon.size;
  }

  /**
   * Cold file pages just read (`filemap_add_folio` in a readahead batch): they join the inactive
   * list locked for read I/O, and the oldest of the locked ones beyond the readahead window
   * complete (`filemap_read_folio` / end of the read bio: unlocked, now ordinary cold page cache).
   * That is the reader's own pace: readahead (mm/readahead.c, `page_cache_async_ra`) keeps no more
   * than its window in flight ahead of the page being read.
   */
  addReadPages(pages: number): void {
    const inactive = this.file.inactive;
    inactive.locked += pages;
    this.completeReads(inactive.locked - this.readaheadPages);
  }

  /** Pages of one readahead batch: half the window in flight (`ra->size`, with `ra->async_size` ahead). */
  get readaheadBatch(): number {
    return max(1, floor(this.readaheadPages / 2));
  }

  /**
   * Read I/O progresses by `pages` while reclaim runs (the time a run takes: see
   * `Vmscan.tryToFreeMemCgroupPages`). The reads in flight complete in the order they
   * were submitted, a whole readahead batch at a time: `read_pages` submits a batch as one read,
   * and its end of I/O unlocks every folio of it (`folio_end_read`, mm/filemap.c). Progress is not
   * banked while nothing is in flight: an idle disk does not get ahead of reads not yet submitted.
   */
  progressReads(pages: number): void {
    const inactive = this.file.inactive;
    if (inactive.locked === 0) {
      this.readIoDone = 0;
      return;
    }
    this.readIoDone += pages;
    const batch = this.readaheadBatch;
    for (;;) {
      const next = min(batch, inactive.locked);
      if (this.readIoDone < next) return;
      this.readIoDone -= next;
      this.completeReads(next);
      if (inactive.locked === 0) {
        this.readIoDone = 0;
        return;
      }
    }
  }

  /** Completes the read I/O of up to `pages` locked file pages (the oldest): they become cold. */
  completeReads(pages: number): void {
    const inactive = this.file.inactive;
    const done = min(max(0, pages), inactive.locked);
    inactive.locked -= done;
    inactive.cold += done;
  }

  /**
   * Accounts `count` cold file pages about to leave the lists: draws how many of them were data-set
   * pages (the workload will read those again) rather than streamed ones. Call before removing them.
   */
  forgetColdFile(count: number, random: Prng): void {
    const streamed = max(0, this.file.cold - this.fileColdData);
    this.fileColdData -= random.hypergeometric(count, this.fileColdData, streamed);
  }
}

/**
 * The machine's groups, parents first: the root at `rootPath` limited by `memory` bytes, and the
 * scenario's tree below it (a group without a limit has only its ancestors').
 */
export function buildGroupTree(
  rootPath: string,
  memory: number,
  children: Record<string, ScenarioGroup>,
): MemoryGroup[] {
  const root = new MemoryGroup(rootPath, floor(memory / PAGE_SIZE), undefined);
  const groups = [root];
  const build = (parent: MemoryGroup, specs: Record<string, ScenarioGroup>) => {
    for (const [name, spec] of Object.entries(specs)) {
      const limit = spec.limit === undefined ? Infinity : floor(spec.limit / PAGE_SIZE);
      const group = new MemoryGroup(`${parent.path === '/' ? '' : parent.path}/${name}`, limit, parent);
      groups.push(group);
      build(group, spec.groups);
    }
  };
  build(root, children);
  return groups;
}
