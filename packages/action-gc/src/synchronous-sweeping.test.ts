import { synchronousSweeping, type SweepingHost } from './synchronous-sweeping';

function host(overrides: Partial<SweepingHost> = {}) {
  const flags: string[] = [];
  const value: SweepingHost = {
    execArgv: [],
    nodeOptions: undefined,
    versions: { node: '20.20.2', v8: '11.3.244.8-node.33' },
    setFlags: (text) => flags.push(text),
    ...overrides,
  };
  return { value, flags };
}

describe(synchronousSweeping, () => {
  it('turns both sweeping flags off around the work and back on after it, also when it throws', () => {
    const { value, flags } = host();
    const control = synchronousSweeping(value);
    if (!control.available) throw new Error(control.reason);
    expect(control.run(() => (flags.push('work'), 42))).toBe(42);
    expect(flags).toEqual([
      '--no-concurrent-sweeping',
      '--no-concurrent-array-buffer-sweeping',
      'work',
      '--concurrent-sweeping',
      '--concurrent-array-buffer-sweeping',
    ]);
    flags.length = 0;
    expect(() =>
      control.run(() => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(flags.slice(-2)).toEqual(['--concurrent-sweeping', '--concurrent-array-buffer-sweeping']);
  });

  it.each([
    [{ execArgv: ['--no-concurrent-sweeping'] }, '--no-concurrent-sweeping'],
    [{ execArgv: ['--single_threaded_gc'] }, '--single-threaded-gc'],
    [{ nodeOptions: '--max-old-space-size=512 --predictable' }, '--predictable'],
    [{ execArgv: ['--concurrent-array-buffer-sweeping=false'] }, '--concurrent-array-buffer-sweeping'],
  ])('leaves sweeping alone when the process decided it (%p)', (overrides, flag) => {
    const control = synchronousSweeping(host(overrides).value);
    expect(control).toEqual({
      available: false,
      reason: `the process was started with ${flag}, which decides sweeping`,
    });
  });

  it('leaves sweeping alone in Electron and outside Node', () => {
    expect(
      synchronousSweeping(host({ versions: { node: '22.0.0', v8: '12', electron: '33.0.0' } }).value),
    ).toEqual({ available: false, reason: 'Electron may freeze V8 flags after start-up' });
    expect(synchronousSweeping(host({ versions: { bun: '1.1' } }).value)).toEqual({
      available: false,
      reason: 'not Node.js with V8',
    });
  });

  it('ignores unrelated flags', () => {
    expect(
      synchronousSweeping(
        host({ execArgv: ['--expose-gc', '--max-semi-space-size=16'], nodeOptions: '' }).value,
      ).available,
    ).toBe(true);
  });

  it('accepts the real flags of this Node without complaint', () => {
    const control = synchronousSweeping();
    expect(control.available).toBe(true);
    if (control.available) expect(control.run(() => 'ran')).toBe('ran');
  });
});
