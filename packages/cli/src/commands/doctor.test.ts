import type { SourceAvailability } from '@memshed/core';
import { defaultSourceId, doctorReport, type SourceDiagnosis } from './doctor';

function row(id: string, availability: SourceAvailability): SourceDiagnosis {
  return { id, description: `${id} source`, availability };
}

const CONTAINER: readonly SourceDiagnosis[] = [
  row('cgroup-v1', { available: false, reason: 'read-only mount', hint: 'use system' }),
  row('psi', { available: true, detail: 'host-wide: /proc/pressure/memory', scope: 'host' }),
  row('vmstat', { available: true, detail: 'host-wide: /proc/vmstat', scope: 'host' }),
  row('system', { available: true, detail: 'cgroup-v1 /: 20 MiB of 256 MiB', scope: 'cgroup' }),
  row('v8', { available: true, detail: 'V8 heap' }),
];

describe(defaultSourceId, () => {
  it('follows the rank outside a memory cgroup with a limit', () => {
    expect(defaultSourceId(CONTAINER)).toBe('vmstat');
  });

  it('picks the best source scoped to the cgroup inside one, not a host-wide one', () => {
    expect(defaultSourceId(CONTAINER, true)).toBe('system');
  });

  it('falls back to the rank when no source judges the cgroup, and to nothing', () => {
    expect(
      defaultSourceId(
        CONTAINER.filter((r) => r.id !== 'system'),
        true,
      ),
    ).toBe('vmstat');
    expect(defaultSourceId([CONTAINER[0]], true)).toBeUndefined();
  });
});

describe(doctorReport, () => {
  it('has a stable shape: version, environment, sources with scope or reason and fix, the default', () => {
    const report = doctorReport(CONTAINER, {
      uid: 1000,
      memoryGroup: {
        kind: 'cgroup-v1',
        name: '/',
        directory: '/sys/fs/cgroup/memory',
        limit: 256 * 2 ** 20,
        readOnlyMount: '/sys/fs/cgroup/memory',
      },
    });
    expect(report).toEqual({
      version: 1,
      environment: {
        uid: 1000,
        memoryGroup: {
          kind: 'cgroup-v1',
          name: '/',
          directory: '/sys/fs/cgroup/memory',
          limitBytes: 268435456,
          readOnlyMount: '/sys/fs/cgroup/memory',
        },
      },
      sources: [
        {
          id: 'cgroup-v1',
          description: 'cgroup-v1 source',
          available: false,
          reason: 'read-only mount',
          hint: 'use system',
        },
        {
          id: 'psi',
          description: 'psi source',
          available: true,
          detail: 'host-wide: /proc/pressure/memory',
          scope: 'host',
        },
        {
          id: 'vmstat',
          description: 'vmstat source',
          available: true,
          detail: 'host-wide: /proc/vmstat',
          scope: 'host',
        },
        {
          id: 'system',
          description: 'system source',
          available: true,
          detail: 'cgroup-v1 /: 20 MiB of 256 MiB',
          scope: 'cgroup',
        },
        { id: 'v8', description: 'v8 source', available: true, detail: 'V8 heap', scope: null },
      ],
      defaultSource: 'system',
      rank: ['cgroup-v1', 'vmstat', 'psi', 'system', 'v8'],
    });
    expect(JSON.parse(JSON.stringify(report))).toEqual(report);
  });

  it('says null where there is no memory group or user id', () => {
    const report = doctorReport(CONTAINER, { uid: undefined, memoryGroup: undefined });
    expect(report.environment).toEqual({ uid: null, memoryGroup: null });
    expect(report.defaultSource).toBe('vmstat');
  });
});
