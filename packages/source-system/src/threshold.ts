import {
  MemshedError,
  SIZE_OR_PERCENT_PATTERN,
  formatBytes,
  parseBytesOrPercent,
  type BytesOrPercent,
  type PressureLevel,
} from '@memshed/core';
import { unitOption } from '@memshed/options';

/**
 * A usage threshold against a limit, as written in config:
 * - `'75%'`: usage at or above 75% of the limit;
 * - `'384MiB'` (or a number of bytes): usage at or above 384 MiB;
 * - `'64MiB free'` / `'25% free'`: less than that much left below the limit.
 */
export type Threshold =
  | { readonly kind: 'percent'; readonly value: number; readonly free: boolean }
  | { readonly kind: 'bytes'; readonly value: number; readonly free: boolean };

/** A share or a size, then an optional `free`: what {@link parseThreshold} reads. */
const PATTERN = /^(.*?)\s*(free)?\s*$/;

/**
 * Parses a threshold: `'75%'`, `'25% free'`, `'384MiB'`, `'512M'`, `'64MiB free'`, or a number of
 * bytes. Sizes are read by core's `parseBytes` (powers of 1024; `512MB` is refused as ambiguous).
 *
 * @throws MemshedError `invalid-argument` naming the accepted forms.
 */
export function parseThreshold(value: string | number): Threshold {
  const match = typeof value === 'string' ? PATTERN.exec(value) : null;
  const free = match?.[2] !== undefined;
  let parsed: BytesOrPercent;
  try {
    parsed = parseBytesOrPercent(match ? match[1] : value);
  } catch (error) {
    // The grammar's own refusals (`512MB`) and suggestions say more than the generic message below.
    if (
      !MemshedError.is(error) ||
      !error.message.startsWith('Invalid ') ||
      error.message.includes('did you mean')
    )
      throw error;
    parsed = { bytes: 0 };
  }
  if ('percent' in parsed) return { kind: 'percent', value: parsed.percent / 100, free };
  if (parsed.bytes > 0) return { kind: 'bytes', value: parsed.bytes, free };
  throw new MemshedError('invalid-argument', `Invalid threshold '${String(value)}'`, {
    fix: "write a share of the limit ('75%', '25% free'), an amount used ('384MiB', '512M') or left ('64MiB free'), or a number of bytes",
  });
}

/**
 * A threshold option (`low`, `medium`, `critical` of the system and electron sources): what
 * {@link parseThreshold} reads, marked as a size-or-percent option. Output: a {@link Threshold}.
 */
export const thresholdOption = unitOption(
  {
    unit: 'bytes-or-percent',
    pattern: `^${SIZE_OR_PERCENT_PATTERN.slice(1, -4)}(?:\\s*free)?\\s*$`,
    examples: ['75%', '25% free', '512MiB', '64MiB free'],
    help: "Either followed by 'free': that much left below the limit.",
  },
  parseThreshold,
);

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
