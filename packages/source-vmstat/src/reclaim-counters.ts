/** Cumulative reclaim counters, in pages (vmstat) or pages (cgroup v2 memory.stat). */
export interface ReclaimCounters {
  /** Pages scanned by reclaim, all kinds. */
  readonly scanned: number;
  /** Pages reclaimed ("stolen"), all kinds. */
  readonly reclaimed: number;
  /** OOM kills so far, when the file reports them. */
  readonly oomKills: number | undefined;
}

/** The outcome of a counters parse: never an exception. */
export type CountersResult =
  { readonly ok: true; readonly value: ReclaimCounters } | { readonly ok: false; readonly error: string };

/** Reads `key value` lines for the keys asked, scanning the text once. */
function pick(text: string, keys: ReadonlySet<string>): Map<string, number> {
  const found = new Map<string, number>();
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const space = text.indexOf(' ', start);
    if (space > start && space < end) {
      const key = text.slice(start, space);
      if (keys.has(key)) {
        const value = Number(text.slice(space + 1, end));
        if (Number.isSafeInteger(value) && value >= 0) found.set(key, value);
      }
    }
    start = end + 1;
  }
  return found;
}

const VMSTAT_KEYS = new Set([
  'pgscan_anon',
  'pgscan_file',
  'pgsteal_anon',
  'pgsteal_file',
  'pgscan_kswapd',
  'pgscan_direct',
  'pgscan_khugepaged',
  'pgsteal_kswapd',
  'pgsteal_direct',
  'pgsteal_khugepaged',
  'oom_kill',
]);

/**
 * Reclaim counters from /proc/vmstat. `pgscan_anon + pgscan_file` (and the `pgsteal_` pair) count
 * every reclaim, memory-cgroup reclaim included, on kernels since 5.8; older kernels only have the
 * per-reclaimer counters (`pgscan_kswapd + pgscan_direct`), which miss memory-cgroup limit reclaim.
 */
export function parseVmstat(text: string): CountersResult {
  const v = pick(text, VMSTAT_KEYS);
  const oomKills = v.get('oom_kill');
  if (v.has('pgscan_anon') && v.has('pgscan_file') && v.has('pgsteal_anon') && v.has('pgsteal_file')) {
    return {
      ok: true,
      value: {
        scanned: v.get('pgscan_anon')! + v.get('pgscan_file')!,
        reclaimed: v.get('pgsteal_anon')! + v.get('pgsteal_file')!,
        oomKills,
      },
    };
  }
  if (
    v.has('pgscan_kswapd') &&
    v.has('pgscan_direct') &&
    v.has('pgsteal_kswapd') &&
    v.has('pgsteal_direct')
  ) {
    return {
      ok: true,
      value: {
        scanned: v.get('pgscan_kswapd')! + v.get('pgscan_direct')! + (v.get('pgscan_khugepaged') ?? 0),
        reclaimed: v.get('pgsteal_kswapd')! + v.get('pgsteal_direct')! + (v.get('pgsteal_khugepaged') ?? 0),
        oomKills,
      },
    };
  }
  return {
    ok: false,
    error: 'no pgscan_*/pgsteal_* counters (expected pgscan_anon, pgscan_file, pgsteal_anon, pgsteal_file)',
  };
}

const MEMORY_STAT_KEYS = new Set(['pgscan', 'pgsteal']);

/** Reclaim counters from a cgroup v2 group's memory.stat (`pgscan`, `pgsteal`). */
export function parseMemoryStat(text: string): CountersResult {
  const v = pick(text, MEMORY_STAT_KEYS);
  const scanned = v.get('pgscan');
  const reclaimed = v.get('pgsteal');
  if (scanned === undefined || reclaimed === undefined) {
    return {
      ok: false,
      error: 'no pgscan/pgsteal in memory.stat (cgroup v1 memory.stat has none: use the cgroup-v1 source)',
    };
  }
  return { ok: true, value: { scanned, reclaimed, oomKills: undefined } };
}
