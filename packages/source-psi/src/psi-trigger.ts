import { MemshedError, parseDuration } from '@memshed/core';

/** A PSI trigger: notify when `kind` stall time exceeds `stallUs` within any `windowUs`. */
export interface PsiTrigger {
  /** `some`: at least one task stalled; `full`: all non-idle tasks stalled at once. */
  readonly kind: 'some' | 'full';
  /** Stall threshold, microseconds. */
  readonly stallUs: number;
  /** Tracking window, microseconds (kernel: 500 ms to 10 s). */
  readonly windowUs: number;
}

const MIN_WINDOW_US = 500_000;
const MAX_WINDOW_US = 10_000_000;
/** Without CAP_SYS_RESOURCE the kernel only accepts windows that are multiples of 2 s. */
export const UNPRIVILEGED_WINDOW_US = 2_000_000;

/**
 * Parses a trigger as written in config: `some 70ms 2s`, `full 100ms 1s`, or the kernel's own
 * form in microseconds, `some 70000 2000000`.
 *
 * @throws MemshedError `invalid-argument` with the accepted form.
 */
export function parseTrigger(text: string): PsiTrigger {
  const parts = typeof text === 'string' ? text.trim().split(/\s+/) : [];
  const fail = (why: string) =>
    new MemshedError('invalid-argument', `Invalid PSI trigger '${String(text)}': ${why}`, {
      fix: "write '<some|full> <stall> <window>', e.g. 'some 70ms 2s' or 'full 100000 2000000' (microseconds)",
    });
  if (parts.length !== 3) throw fail('expected three words');
  const [kind, stall, window] = parts;
  if (kind !== 'some' && kind !== 'full') throw fail(`'${kind}' is neither 'some' nor 'full'`);
  const toUs = (value: string) => {
    if (/^\d+$/.test(value)) return Number(value);
    try {
      return parseDuration(value) * 1000;
    } catch {
      throw fail(`'${value}' is not a duration`);
    }
  };
  return { kind, stallUs: toUs(stall), windowUs: toUs(window) };
}

/** The text the kernel expects: `some 70000 2000000`. */
export function formatTrigger(trigger: PsiTrigger): string {
  return `${trigger.kind} ${trigger.stallUs} ${trigger.windowUs}`;
}

/**
 * Checks a trigger against the kernel's rules before writing it, so the user gets a reason and a
 * fix rather than a bare EINVAL: window within 500 ms..10 s, stall within (0, window], and, without
 * CAP_SYS_RESOURCE, a window that is a multiple of 2 s.
 *
 * @throws MemshedError `invalid-argument` (or `permission` for the 2 s rule).
 */
export function validateTrigger(trigger: PsiTrigger, privileged: boolean): void {
  const text = formatTrigger(trigger);
  if (trigger.windowUs < MIN_WINDOW_US || trigger.windowUs > MAX_WINDOW_US) {
    throw new MemshedError('invalid-argument', `PSI trigger '${text}': the window must be 500ms to 10s`, {
      fix: "use a window such as '2s'",
    });
  }
  if (trigger.stallUs <= 0 || trigger.stallUs > trigger.windowUs) {
    throw new MemshedError(
      'invalid-argument',
      `PSI trigger '${text}': the stall must be above 0 and at most the window`,
      {
        fix: `use a stall below ${trigger.windowUs / 1000}ms`,
      },
    );
  }
  if (!privileged && trigger.windowUs % UNPRIVILEGED_WINDOW_US !== 0) {
    const stallPerSecond = trigger.stallUs / (trigger.windowUs / 1_000_000);
    const suggested = `${trigger.kind} ${Math.round((stallPerSecond * 2) / 1000)}ms 2s`;
    throw new MemshedError(
      'permission',
      `PSI trigger '${text}': without CAP_SYS_RESOURCE the kernel accepts only windows that are multiples of 2s`,
      { fix: `write '${suggested}' (the same stall share over 2s), or grant CAP_SYS_RESOURCE` },
    );
  }
}

/** The stall share a trigger stands for, as a percentage (for the avg10 polling fallback). */
export function triggerPercent(trigger: PsiTrigger): number {
  return (trigger.stallUs / trigger.windowUs) * 100;
}
