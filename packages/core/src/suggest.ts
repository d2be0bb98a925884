/** Levenshtein edit distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = previous[0];
    previous[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = previous[j];
      previous[j] = Math.min(above + 1, previous[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return previous[b.length];
}

/**
 * The closest of `known` to `name`, when it is close enough to be a typo (at most a third of its
 * length in edits, minimum 1), for messages like "Did you mean 'cache-purge'?".
 */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** "Known: a, b, c. Did you mean 'b'?" — the tail of an unknown-name message. */
export function knownNamesHint(name: string, known: readonly string[]): string {
  const list = known.length ? `Known: ${[...known].sort().join(', ')}.` : 'None are loaded.';
  const suggestion = didYouMean(name, known);
  return suggestion ? `${list} Did you mean '${suggestion}'?` : list;
}
