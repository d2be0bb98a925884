import { tagNestingProblem } from './index';

describe(tagNestingProblem, () => {
  it('accepts nested, self-closing and sibling tags', () => {
    expect(tagNestingProblem('<svg><g><line x1="1"/><text>a</text></g><rect/></svg>')).toBeUndefined();
  });

  it('names a closing tag that does not match, and tags left open', () => {
    expect(tagNestingProblem('<svg><g></svg>')).toBe('</svg> at offset 8 does not close <g>');
    expect(tagNestingProblem('</g>')).toBe('</g> at offset 0 closes nothing');
    expect(tagNestingProblem('<svg><g><text>')).toBe('left open: <svg>, <g>, <text>');
  });
});
