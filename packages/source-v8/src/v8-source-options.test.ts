import { validateOptions } from '@memshed/core';
import { v8SourceOptionsSchema } from './v8-source-options';

describe('v8SourceOptionsSchema', () => {
  it('defaults to /v8, medium at 60%, critical at 80%, efficiency from 50%, repeat 1s, window 100ms', () => {
    expect(v8SourceOptionsSchema.parse({})).toEqual({
      scope: '/v8',
      medium: 0.6,
      critical: 0.8,
      efficiencyFrom: 0.5,
      repeat: 1000,
      window: 100,
      recorder: 'auto',
      timeToLimit: {
        medium: 3000,
        critical: Infinity,
        window: 1000,
        samples: 3,
        interval: 100,
        from: { percent: 50 },
      },
    });
  });

  it('reads fractions as numbers or percentages, and durations with units', () => {
    expect(
      v8SourceOptionsSchema.parse({
        medium: '55%',
        critical: 0.9,
        low: ' 40.5 % ',
        efficiencyFrom: false,
        repeat: '250ms',
      }),
    ).toMatchObject({ medium: 0.55, critical: 0.9, low: 0.405, efficiencyFrom: false, repeat: 250 });
  });

  it.each([
    [{ medium: '150%' }, 'medium', '150% must be above 0% and at most 100%'],
    [{ medium: 'lots' }, 'medium', "'lots' is not a fraction: write a percentage such as '60%'"],
    [{ critical: 0 }, 'critical', '0 must be above 0% and at most 100%'],
    [{ critical: true }, 'critical', ''],
    [{ low: '70%' }, 'low', 'low must be below medium'],
    [{ repeat: 'soon' }, 'repeat', "Invalid duration 'soon'"],
    [{ window: -5 }, 'window', 'Invalid duration'],
    [{ externalLimit: -1 }, 'externalLimit', ''],
    [{ recorder: 'perf' }, 'recorder', ''],
    [{ mediun: '50%' }, '', 'mediun'],
  ])('rejects %j at %s', (input, path, message) => {
    const result = validateOptions(v8SourceOptionsSchema, input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.some((issue) => issue.path === path && issue.message.includes(message))).toBe(true);
  });
});
