/**
 * Optimal string alignment distance: Levenshtein (insertions, deletions, substitutions) plus the
 * swap of two adjacent letters as one edit, the commonest typo in keys and ids (`wtih`, `quite`).
 * Internal to the did-you-mean below; exported for its tests only.
 */
export function typoDistance(a: string, b: string): number {
  // Three rolling rows: the transposition looks two rows back.
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1);
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        current[j] = Math.min(current[j], before[j - 2] + 1);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length];
}

/**
 * The closest of `known` to `name`, when it is close enough to be a typo (at most a third of its
 * length in edits, minimum 1; a swap of two adjacent letters is one edit), for messages like
 * "Did you mean 'cache-purge'?". Case is ignored; the first of equally close names wins.
 */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = typoDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** "Known: a, b, c. Did you mean 'b'?": the tail of an unknown-name message. */
export function knownNamesHint(name: string, known: readonly string[]): string {
  const list = known.length ? `Known: ${[...known].sort().join(', ')}.` : 'None are loaded.';
  const suggestion = didYouMean(name, known);
  return suggestion ? `${list} Did you mean '${suggestion}'?` : list;
}
