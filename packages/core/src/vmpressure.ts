import type { PressureLevel } from './levels';

/**
 * The vmpressure window in pages: `SWAP_CLUSTER_MAX * 16` = 512 (2 MiB with 4 KiB pages). It is
 * both the averaging window and the rate limit: no level is computed before this many pages
 * have been scanned.
 */
export const VMPRESSURE_WINDOW = 512;

/** Pressure percentage at or above which the level is `medium` (`vmpressure_level_med`). */
export const VMPRESSURE_LEVEL_MEDIUM = 60;

/** Pressure percentage at or above which the level is `critical` (`vmpressure_level_critical`). */
export const VMPRESSURE_LEVEL_CRITICAL = 95;

/**
 * Reclaim priority at or below which reclaim is reported as critical whatever it reclaimed:
 * `ilog2(100 / 10)` = 3 (`vmpressure_level_critical_prio`). Priority counts down from 12
 * (`DEF_PRIORITY`); each step scans twice as deep.
 */
export const VMPRESSURE_CRITICAL_PRIORITY = 3;

// Below 2^52 a double division of integers floors exactly (the rounding error is under half the
// distance to the next integer); past it, switch to BigInt.
const EXACT_DIVISION_LIMIT = 2 ** 52;

/**
 * The kernel's pressure percentage for one window (`vmpressure_calc_level` in mm/vmpressure.c),
 * in the kernel's unsigned integer arithmetic, truncating at each step:
 *
 * ```
 * scale = scanned + reclaimed
 * if reclaimed >= scanned: pressure = 0
 * else: pressure = (scale - reclaimed * scale / scanned) * 100 / scale
 * ```
 *
 * `reclaimed >= scanned` happens when slab reclaim adds reclaimed pages that were never
 * scanned; it counts as no pressure. Inputs must be non-negative integers; the result is
 * mathematically exact for any size (BigInt is used where doubles could round). The kernel's u64
 * product would wrap only for windows of ~3 billion pages (12 TiB), which reclaim never reaches.
 *
 * @example vmpressurePercent(512, 25) === 95; vmpressurePercent(512, 205) === 59
 */
export function vmpressurePercent(scanned: number, reclaimed: number): number {
  if (reclaimed >= scanned) return 0;
  const scale = scanned + reclaimed;
  const product = reclaimed * scale;
  if (product < EXACT_DIVISION_LIMIT && scale * 100 < EXACT_DIVISION_LIMIT) {
    const pressure = scale - Math.floor(product / scanned);
    return Math.floor((pressure * 100) / scale);
  }
  return vmpressurePercentBig(scanned, reclaimed);
}

function vmpressurePercentBig(scanned: number, reclaimed: number): number {
  const s = BigInt(scanned);
  const r = BigInt(reclaimed);
  const scale = s + r;
  const pressure = scale - (r * scale) / s;
  return Number((pressure * 100n) / scale);
}

/** The level for a pressure percentage (`vmpressure_level`): >= 95 critical, >= 60 medium, else low. */
export function levelForPercent(pressure: number): PressureLevel {
  if (pressure >= VMPRESSURE_LEVEL_CRITICAL) return 'critical';
  if (pressure >= VMPRESSURE_LEVEL_MEDIUM) return 'medium';
  return 'low';
}

/**
 * The kernel's level for one window of `scanned` and `reclaimed` pages.
 *
 * @example vmpressureLevel(512, 0) === 'critical'; vmpressureLevel(600, 700) === 'low'
 */
export function vmpressureLevel(scanned: number, reclaimed: number): PressureLevel {
  return levelForPercent(vmpressurePercent(scanned, reclaimed));
}
