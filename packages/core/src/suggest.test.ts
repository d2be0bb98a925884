import { didYouMean, editDistance, knownNamesHint } from './suggest';

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions', () => {
    expect(editDistance('cache-prge', 'cache-purge')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });
});

describe('didYouMean', () => {
  it('suggests a close name and nothing for a distant one', () => {
    const known = ['cache-purge', 'gc', 'service-shutdown'];
    expect(didYouMean('cache-prge', known)).toBe('cache-purge');
    expect(didYouMean('servise-shutdown', known)).toBe('service-shutdown');
    expect(didYouMean('restart-nginx', known)).toBeUndefined();
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
