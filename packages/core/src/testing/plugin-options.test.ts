import type { OptionsSchema } from '../plugin';
import { firstIssuePath, validOptions } from './plugin-options';

/** `every`, a number, default 5; no other key. */
const schema: OptionsSchema<{ every: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate(value) {
      const { every = 5, ...rest } = value as { every?: unknown };
      const extra = Object.keys(rest);
      if (extra.length > 0) return { issues: [{ message: `unknown key ${extra[0]}` }] };
      if (typeof every !== 'number') return { issues: [{ message: 'a number', path: ['every'] }] };
      return { value: { every } };
    },
  },
};

describe(validOptions, () => {
  it('gives the options with their defaults, for input and for none', () => {
    expect(validOptions(schema, { every: 2 })).toEqual({ every: 2 });
    expect(validOptions(schema, undefined)).toEqual({ every: 5 });
  });

  it('throws with the issues for invalid input', () => {
    expect(() => validOptions(schema, { every: 'soon' })).toThrow(/"path":"every"/);
  });
});

describe(firstIssuePath, () => {
  it('names the key of the first issue, the top level as an empty path', () => {
    expect(firstIssuePath(schema, { every: 'soon' })).toBe('every');
    expect(firstIssuePath(schema, { extra: true })).toBe('');
  });

  it('is undefined for valid input', () => {
    expect(firstIssuePath(schema, {})).toBeUndefined();
  });
});
