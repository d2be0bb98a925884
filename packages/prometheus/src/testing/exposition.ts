/**
 * Prometheus text exposition -> `{ 'name{a="1"}': value }`, comments and blank lines dropped, `+Inf`
 * and `-Inf` read as Infinity and -Infinity. For tests.
 */
export function samples(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out[line.slice(0, space)] = sampleValue(line.slice(space + 1));
  }
  return out;
}

/** A sample's value: a number, or the exposition's words for infinities (`Number('+Inf')` is NaN). */
function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}
