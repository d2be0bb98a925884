import { didYouMean, knownNamesHint, typoDistance } from './suggest';

describe(typoDistance, () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(typoDistance('cache-prge', 'cache-purge')).toBe(1);
    expect(typoDistance('', 'abc')).toBe(3);
    expect(typoDistance('kitten', 'sitting')).toBe(3);
    expect(typoDistance('same', 'same')).toBe(0);
  });

  it('counts a swap of two adjacent letters as one edit', () => {
    expect(typoDistance('wtih', 'with')).toBe(1);
    expect(typoDistance('quite', 'quiet')).toBe(1);
    expect(typoDistance('ab', 'ba')).toBe(1);
  });
});

describe('didYouMean', () => {
  it('suggests a close name and nothing for a distant one', () => {
    const known = ['cache-purge', 'gc', 'service-shutdown'];
    expect(didYouMean('cache-prge', known)).toBe('cache-purge');
    expect(didYouMean('servise-shutdown', known)).toBe('service-shutdown');
    expect(didYouMean('restart-nginx', known)).toBeUndefined();
    expect(didYouMean('quite', ['quiet', 'scope'])).toBe('quiet');
  });
});

describe('knownNamesHint', () => {
  it('lists the known names sorted and adds the suggestion', () => {
    expect(knownNamesHint('cache-prge', ['gc', 'service-shutdown', 'cache-purge'])).toBe(
      "Known: cache-purge, gc, service-shutdown. Did you mean 'cache-purge'?",
    );
    expect(knownNamesHint('x', [])).toBe('None are loaded.');
  });
});
