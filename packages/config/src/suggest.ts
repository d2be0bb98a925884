import { didYouMean as coreDidYouMean } from '@memshed/core';

/**
 * Optimal string alignment distance: Levenshtein plus the transposition of two adjacent letters as
 * one edit, the commonest typo in keys (`wtih`, `quite`).
 */
export function typoDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/**
 * The closest of `known` to `name` when it is likely a typo: core's rule (at most a third of the
 * length in edits, minimum 1), counting a swap of two adjacent letters as one edit.
 */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  const candidates = [...known];
  const plain = coreDidYouMean(name, candidates);
  if (plain) return plain;
  const limit = Math.max(1, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = typoDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** "Known: a, b, c. Did you mean 'b'?" — the tail of an unknown-name message. */
export function knownNamesHint(name: string, known: readonly string[]): string {
  const list = known.length ? `Known: ${[...known].sort().join(', ')}.` : 'None are loaded.';
  const suggestion = didYouMean(name, known);
  return suggestion ? `${list} Did you mean '${suggestion}'?` : list;
}
