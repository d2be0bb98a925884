import { MemshedError } from './errors';

describe(MemshedError, () => {
  it('carries a kind, a cause and the fix in its message', () => {
    const cause = new Error('EACCES');
    const error = new MemshedError('permission', 'cannot write cgroup.event_control', {
      cause,
      fix: 'run as root',
    });
    expect(error.message).toBe('cannot write cgroup.event_control. Fix: run as root');
    expect(error.kind).toBe('permission');
    expect(error.cause).toBe(cause);
    expect(error.fix).toBe('run as root');
    expect(error).toBeInstanceOf(Error);
  });

  describe('.is', () => {
    it('recognises the brand, and the kind when asked', () => {
      const error = new MemshedError('timeout', 'slow');
      expect(MemshedError.is(error)).toBe(true);
      expect(MemshedError.is(error, 'timeout')).toBe(true);
      expect(MemshedError.is(error, 'internal')).toBe(false);
      expect(MemshedError.is(new Error('x'))).toBe(false);
      expect(MemshedError.is({ kind: 'timeout' })).toBe(false);
      expect(MemshedError.is(undefined)).toBe(false);
    });
  });

  describe('.from', () => {
    it('wraps foreign errors and keeps MemshedErrors', () => {
      const wrapped = MemshedError.from(new Error('boom'), 'action-failed', "Action 'gc' failed");
      expect(wrapped.message).toBe("Action 'gc' failed: boom");
      const original = new MemshedError('internal', 'x');
      expect(MemshedError.from(original, 'action-failed', 'y')).toBe(original);
      expect(MemshedError.from('text', 'internal', 'z').message).toBe('z: text');
    });
  });
});
