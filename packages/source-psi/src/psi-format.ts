/** One line of a PSI file: the share of wall time some (or all) tasks stalled on memory. */
export interface PsiLine {
  /** Percent of the last 10 s. */
  readonly avg10: number;
  /** Percent of the last 60 s. */
  readonly avg60: number;
  /** Percent of the last 300 s. */
  readonly avg300: number;
  /** Total stall time since boot, in microseconds. */
  readonly total: number;
}

/** A parsed PSI file (`/proc/pressure/memory`, a cgroup v2 group's `memory.pressure`). */
export interface PsiStats {
  /** Some tasks stalled. */
  readonly some: PsiLine;
  /** All non-idle tasks stalled at once (absent in old kernels' cpu files; always there for memory). */
  readonly full: PsiLine | undefined;
}

/** The outcome of {@link parsePsi}: never an exception. */
export type PsiParseResult =
  { readonly ok: true; readonly value: PsiStats } | { readonly ok: false; readonly error: string };

const LINE = /^(some|full) avg10=(\d+\.\d+) avg60=(\d+\.\d+) avg300=(\d+\.\d+) total=(\d+)$/;

/**
 * Parses the PSI file format:
 *
 * ```
 * some avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * full avg10=0.00 avg60=0.00 avg300=0.00 total=0
 * ```
 *
 * Never throws, whatever the input: malformed text gives `{ ok: false, error }` naming the line
 * and what was expected.
 */
export function parsePsi(text: string): PsiParseResult {
  if (typeof text !== 'string') return { ok: false, error: 'PSI content must be text' };
  let some: PsiLine | undefined;
  let full: PsiLine | undefined;
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim();
    if (line === '') continue;
    const match = LINE.exec(line);
    if (!match) {
      return {
        ok: false,
        error: `line ${index + 1}: expected 'some|full avg10=N.NN avg60=N.NN avg300=N.NN total=N', got '${truncate(line)}'`,
      };
    }
    const parsed: PsiLine = {
      avg10: Number(match[2]),
      avg60: Number(match[3]),
      avg300: Number(match[4]),
      total: Number(match[5]),
    };
    if (!Number.isSafeInteger(parsed.total)) {
      return { ok: false, error: `line ${index + 1}: total=${match[5]} is out of range` };
    }
    if (match[1] === 'some') {
      if (some) return { ok: false, error: `line ${index + 1}: a second 'some' line` };
      some = parsed;
    } else {
      if (full) return { ok: false, error: `line ${index + 1}: a second 'full' line` };
      full = parsed;
    }
  }
  if (!some) return { ok: false, error: "no 'some' line" };
  return { ok: true, value: { some, full } };
}

function truncate(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/g, '?');
  return printable.length > 80 ? `${printable.slice(0, 77)}...` : printable;
}
