import { validateOptions } from '@memshed/core';
import { firstIssuePath } from '@memshed/core/testing';
import { cgroupV1OptionsSchema } from './cgroup-v1-options';

describe('cgroupV1OptionsSchema', () => {
  it('defaults to every level of this process cgroup, default mode, with OOM events', () => {
    expect(validateOptions(cgroupV1OptionsSchema, {})).toEqual({
      ok: true,
      value: {
        cgroup: 'self',
        levels: ['low', 'medium', 'critical'],
        mode: 'default',
        oom: true,
        usageLevel: 'medium',
        minIntervalMs: 20,
      },
    });
  });

  it('accepts an omitted `with` as all defaults', () => {
    expect(validateOptions(cgroupV1OptionsSchema, undefined)).toEqual(
      validateOptions(cgroupV1OptionsSchema, {}),
    );
  });

  it('orders and de-duplicates levels', () => {
    expect(cgroupV1OptionsSchema.parse({ levels: ['critical', 'low', 'critical'] }).levels).toEqual([
      'low',
      'critical',
    ]);
  });

  it.each([
    [{ level: 'low' }, ''],
    [{ levels: [] }, 'levels'],
    [{ levels: ['urgent'] }, 'levels[0]'],
    [{ mode: 'tree' }, 'mode'],
    [{ cgroup: 'app' }, 'cgroup'],
    [{ oom: 'yes' }, 'oom'],
    [{ usageThreshold: '80 percent' }, 'usageThreshold'],
    [{ usageThreshold: -1 }, 'usageThreshold'],
    [{ mount: 'sys/fs' }, 'mount'],
    [{ minIntervalMs: -1 }, 'minIntervalMs'],
  ])('rejects %j at %j', (input, path) => {
    expect(firstIssuePath(cgroupV1OptionsSchema, input)).toBe(path);
  });
});

describe('cgroupV1OptionsSchema usageThreshold', () => {
  it.each([
    [1048576, { bytes: 1048576 }],
    ['65536', { bytes: 65536 }],
    ['512M', { bytes: 512 * 2 ** 20 }],
    ['1.5GiB', { bytes: 1.5 * 2 ** 30 }],
    ['64k', { bytes: 65536 }],
    [1.5, { bytes: 1 }],
    ['80%', { percent: 80 }],
    ['12.5 %', { percent: 12.5 }],
    ['0%', undefined],
    ['100%', undefined],
    [0, undefined],
    ['12X', undefined],
    ['512MB', undefined],
  ])('parses %j as %j', (input, expected) => {
    const result = validateOptions(cgroupV1OptionsSchema, { usageThreshold: input });
    expect(result.ok ? result.value.usageThreshold : undefined).toEqual(expected);
  });

  it('reads minIntervalMs as a duration', () => {
    expect(cgroupV1OptionsSchema.parse({ minIntervalMs: '50ms' }).minIntervalMs).toBe(50);
    expect(cgroupV1OptionsSchema.parse({ minIntervalMs: 50 }).minIntervalMs).toBe(50);
    expect(validateOptions(cgroupV1OptionsSchema, { minIntervalMs: '2s' }).ok).toBe(false);
  });
});
