import { validateOptions } from '@memshed/core';
import { parseThreshold } from './threshold';
import { systemSourceOptionsSchema } from './system-source-options';

describe('systemSourceOptionsSchema', () => {
  it("defaults to Chromium's thresholds for the container and the host, event-driven where possible", () => {
    expect(systemSourceOptionsSchema.parse({})).toEqual({
      scope: '/system',
      root: '/',
      container: {
        cgroup: 'self',
        medium: parseThreshold('75%'),
        critical: parseThreshold('85%'),
        measure: 'working-set',
        notify: 'auto',
        interval: 250,
        timeToLimit: {
          medium: 3000,
          critical: Infinity,
          window: 1000,
          samples: 3,
          interval: 100,
          from: { percent: 50 },
        },
      },
      host: { medium: parseThreshold('75%'), critical: parseThreshold('85%'), interval: 1000 },
      repeat: 1000,
    });
  });

  it('turns a part off with false and reads thresholds and durations as written', () => {
    expect(
      systemSourceOptionsSchema.parse({
        container: false,
        host: { low: '50%', medium: '25% free', critical: '512MiB free', interval: '5s' },
        repeat: '500ms',
      }),
    ).toMatchObject({
      container: false,
      host: {
        low: parseThreshold('50%'),
        medium: parseThreshold('25% free'),
        critical: parseThreshold('512MiB free'),
        interval: 5000,
      },
      repeat: 500,
    });
  });

  it.each([
    [{ container: { medium: '75 percent' } }, 'container.medium', "Invalid threshold '75 percent'"],
    [{ container: { mediun: '75%' } }, 'container', 'mediun'],
    [{ container: { measure: 'rss' } }, 'container.measure', ''],
    [{ container: true }, 'container', ''],
    [{ host: { interval: 'often' } }, 'host.interval', "Invalid duration 'often'"],
    [{ scope: 'system' }, 'scope', 'must be an absolute node path'],
    [{ hosts: false }, '', 'hosts'],
  ])('rejects %j at %s', (input, path, message) => {
    const result = validateOptions(systemSourceOptionsSchema, input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.some((issue) => issue.path === path && issue.message.includes(message))).toBe(true);
  });
});
