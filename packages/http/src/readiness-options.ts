import {
  MemshedError,
  PRESSURE_LEVELS,
  isPressureLevel,
  parseDuration,
  stateRank,
  type PressureLevel,
} from '@memshed/core';
import type { SchedulerLike } from 'rxjs';

// The readiness probe's options: what they mean, their defaults and their checks.

/** What the application's own check answers: ready or not, and why not. */
export interface ReadinessCheckResult {
  /** Whether the application can take traffic. */
  readonly ready: boolean;
  /** Why not, shown in the probe's body (keep it short, and free of secrets). */
  readonly reason?: string;
}

/**
 * The application's own readiness (a database reachable, a cache warmed): `true`/`false`, or a
 * {@link ReadinessCheckResult}, or a promise of either. A check that throws, rejects or takes longer
 * than `checkTimeout` counts as not ready. It runs on every readiness probe while memory allows
 * (under pressure the probe answers without it): keep it cheap.
 */
export type ReadinessCheck = () =>
  boolean | ReadinessCheckResult | PromiseLike<boolean | ReadinessCheckResult>;

/** Options of a {@link Readiness} and of the probe adapters. */
export interface ReadinessOptions {
  /**
   * Not ready once memshed's state has been at or above this level for {@link hold}. Default
   * `critical`.
   */
  readonly level?: PressureLevel;
  /**
   * How long pressure at or above {@link level} must last before the pod reports not ready: a
   * number of milliseconds or a duration (`'2s'`, `'500ms'`). With the source's `events$`, events
   * at that level must keep coming for this long (the `system` and `v8` sources repeat their level
   * every second while it holds); without, the state must stay there this long. A short burst that
   * memshed's actions absorb should not take the pod out of its Service. Default `'2s'`.
   */
  readonly hold?: string | number;
  /**
   * Ready again once the state has stayed below this level for {@link recovery}: at or below
   * {@link level}, so that a state that falls back and rises again around `level` does not flap
   * the pod in and out of its Service. Default `medium` (ready again at `low` or `normal`).
   */
  readonly readyBelow?: PressureLevel;
  /** How long the state must stay below {@link readyBelow} before the pod is ready again. Default `'10s'`. */
  readonly recovery?: string | number;
  /** The application's own readiness, asked while memory allows. */
  readonly check?: ReadinessCheck;
  /** How long {@link check} may take before it counts as not ready. Default `'1s'` (the kubelet's default probe timeout). */
  readonly checkTimeout?: string | number;
  /** The path of the readiness probe. Default `/readyz`. */
  readonly readinessPath?: string;
  /** The path of the liveness probe (always 200 while the process answers). Default `/livez`. */
  readonly livenessPath?: string;
  /** The clock of hold and recovery. Default: the source's engine scheduler, else the event loop. */
  readonly scheduler?: SchedulerLike;
}

/** Default {@link ReadinessOptions.readinessPath}. */
export const DEFAULT_READINESS_PATH = '/readyz';
/** Default {@link ReadinessOptions.livenessPath}. */
export const DEFAULT_LIVENESS_PATH = '/livez';
/** Default {@link ReadinessOptions.hold}, in milliseconds. */
export const DEFAULT_READINESS_HOLD_MS = 2000;
/** Default {@link ReadinessOptions.recovery}, in milliseconds. */
export const DEFAULT_READINESS_RECOVERY_MS = 10_000;
/** Default {@link ReadinessOptions.checkTimeout}, in milliseconds. */
export const DEFAULT_CHECK_TIMEOUT_MS = 1000;

/** The options with defaults applied and checked. */
export interface ResolvedReadinessOptions {
  readonly level: PressureLevel;
  readonly holdMs: number;
  readonly readyBelow: PressureLevel;
  readonly recoveryMs: number;
  readonly checkTimeoutMs: number;
  readonly readinessPath: string;
  readonly livenessPath: string;
}

/**
 * Applies the defaults and checks every option.
 *
 * @throws MemshedError `invalid-argument` naming the option and the fix.
 */
export function resolveReadinessOptions(options: ReadinessOptions): ResolvedReadinessOptions {
  const level = levelOption(options.level ?? 'critical', 'level');
  const readyBelow = levelOption(options.readyBelow ?? (level === 'low' ? 'low' : 'medium'), 'readyBelow');
  if (stateRank(readyBelow) > stateRank(level)) {
    throw new MemshedError(
      'invalid-argument',
      `readiness readyBelow '${readyBelow}' is above level '${level}'`,
      {
        fix: `write readyBelow: '${level}' or lower: the pod is ready again below it, so it must not be above the level that made it not ready`,
      },
    );
  }
  const readinessPath = pathOption(options.readinessPath ?? DEFAULT_READINESS_PATH, 'readinessPath');
  const livenessPath = pathOption(options.livenessPath ?? DEFAULT_LIVENESS_PATH, 'livenessPath');
  if (readinessPath === livenessPath) {
    throw new MemshedError('invalid-argument', `readinessPath and livenessPath are both '${readinessPath}'`, {
      fix: "give them different paths, e.g. readinessPath: '/readyz', livenessPath: '/livez'",
    });
  }
  if (options.check !== undefined && typeof options.check !== 'function') {
    throw new MemshedError('invalid-argument', 'readiness check must be a function', {
      fix: 'write check: async () => db.ping().then(() => true)',
    });
  }
  return {
    level,
    holdMs: durationOption(options.hold, DEFAULT_READINESS_HOLD_MS, 'hold'),
    readyBelow,
    recoveryMs: durationOption(options.recovery, DEFAULT_READINESS_RECOVERY_MS, 'recovery'),
    checkTimeoutMs: durationOption(options.checkTimeout, DEFAULT_CHECK_TIMEOUT_MS, 'checkTimeout'),
    readinessPath,
    livenessPath,
  };
}

function levelOption(value: unknown, name: string): PressureLevel {
  if (isPressureLevel(value)) return value;
  throw new MemshedError('invalid-argument', `readiness ${name} '${String(value)}' is not a pressure level`, {
    fix: `write ${name}: one of ${PRESSURE_LEVELS.join(', ')}`,
  });
}

function durationOption(value: string | number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  try {
    return parseDuration(value);
  } catch (error) {
    throw new MemshedError('invalid-argument', `readiness ${name}: invalid duration '${String(value)}'`, {
      fix: `write ${name}: '2s', '500ms' or a number of milliseconds`,
      cause: error,
    });
  }
}

function pathOption(value: unknown, name: string): string {
  if (typeof value === 'string' && value.startsWith('/') && !value.includes('?')) return value;
  throw new MemshedError('invalid-argument', `readiness ${name} '${String(value)}' is not a path`, {
    fix: `write ${name}: a path starting with '/', e.g. '/readyz'`,
  });
}
