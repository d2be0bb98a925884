import { MemshedError, type PressureLevel } from '@memshed/core';

/**
 * A usage threshold against a limit, as written in config:
 * - `'75%'`: usage at or above 75% of the limit;
 * - `'384MiB'` (or a number of bytes): usage at or above 384 MiB;
 * - `'64MiB free'` / `'25% free'`: less than that much left below the limit.
 */
export type Threshold =
  | { readonly kind: 'percent'; readonly value: number; readonly free: boolean }
  | { readonly kind: 'bytes'; readonly value: number; readonly free: boolean };

/** Binary multiples (the kernel's memparse: `512M` in memory.limit_in_bytes is 512 MiB), and SI ones. */
const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  ki: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  ti: 1024 ** 4,
  tib: 1024 ** 4,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(%|[a-z]*)\s*(free)?\s*$/i;

/**
 * Parses a threshold: `'75%'`, `'25% free'`, `'384MiB'`, `'512M'`, `'64MiB free'`, or a number of
 * bytes. Units K, M, G, T (and KiB, MiB, GiB, TiB) are binary as in cgroup files; KB, MB, GB, TB
 * are decimal.
 *
 * @throws MemshedError `invalid-argument` naming the accepted forms.
 */
export function parseThreshold(value: string | number): Threshold {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value > 0) return { kind: 'bytes', value, free: false };
  } else {
    const match = PATTERN.exec(value);
    if (match) {
      const amount = Number(match[1]);
      const unit = match[2].toLowerCase();
      const free = match[3] !== undefined;
      if (unit === '%') {
        if (amount > 0 && amount <= 100) return { kind: 'percent', value: amount / 100, free };
      } else if (unit in UNITS && amount > 0) {
        return { kind: 'bytes', value: Math.round(amount * UNITS[unit]), free };
      }
    }
  }
  throw new MemshedError('invalid-argument', `Invalid threshold '${String(value)}'`, {
    fix: "write a share of the limit ('75%', '25% free'), an amount used ('384MiB', '512M') or left ('64MiB free'), or a number of bytes",
  });
}

/** Formats a threshold the way {@link parseThreshold} reads it back. */
export function formatThreshold(threshold: Threshold): string {
  const amount =
    threshold.kind === 'percent'
      ? `${Number((threshold.value * 100).toFixed(2))}%`
      : formatBytes(threshold.value);
  return threshold.free ? `${amount} free` : amount;
}

/**
 * The usage in bytes at which `threshold` is reached under `limit` (Infinity when the limit is
 * unknown or infinite and the threshold is relative to it).
 */
export function thresholdBytes(threshold: Threshold, limit: number): number {
  if (threshold.kind === 'bytes' && !threshold.free) return threshold.value;
  if (!Number.isFinite(limit)) return Infinity;
  const amount = threshold.kind === 'percent' ? threshold.value * limit : threshold.value;
  return Math.max(0, Math.round(threshold.free ? limit - amount : amount));
}

/** Thresholds of the three levels; `low` is optional. */
export interface LevelThresholds {
  readonly low?: Threshold;
  readonly medium: Threshold;
  readonly critical: Threshold;
}

/** The thresholds resolved to bytes of usage under one limit. */
export interface ResolvedThresholds {
  readonly low: number;
  readonly medium: number;
  readonly critical: number;
}

/** Resolves every threshold against `limit`; a missing `low` is Infinity (never reached). */
export function resolveThresholds(thresholds: LevelThresholds, limit: number): ResolvedThresholds {
  return {
    low: thresholds.low ? thresholdBytes(thresholds.low, limit) : Infinity,
    medium: thresholdBytes(thresholds.medium, limit),
    critical: thresholdBytes(thresholds.critical, limit),
  };
}

/** The level `used` bytes reach, or undefined below every threshold. */
export function levelForUsage(used: number, resolved: ResolvedThresholds): PressureLevel | undefined {
  if (used >= resolved.critical) return 'critical';
  if (used >= resolved.medium) return 'medium';
  if (used >= resolved.low) return 'low';
  return undefined;
}

/** The lowest finite threshold in bytes, Infinity when none is reachable. */
export function lowestThreshold(resolved: ResolvedThresholds): number {
  return Math.min(resolved.low, resolved.medium, resolved.critical);
}

/** `268435456` -> `256MiB`; exact binary multiples get their unit, others one decimal. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return 'unlimited';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number.isInteger(value) ? value : value.toFixed(1)}${units[unit]}`;
}
