import { CgroupfsError, errnoKind, errorCode } from './cgroupfs-error';

describe(errnoKind, () => {
  it.each([
    ['EACCES', 'permission'],
    ['EPERM', 'permission'],
    ['EROFS', 'permission'],
    ['ENOENT', 'unavailable'],
    ['EINVAL', 'invalid-argument'],
    ['EBUSY', 'invalid-argument'],
    ['EMFILE', 'unavailable'],
    ['ADDON_UNAVAILABLE', 'unavailable'],
    ['NO_HIERARCHY', 'unavailable'],
    ['INVALID_PATH', 'invalid-argument'],
    ['EIO', 'internal'],
    [undefined, 'internal'],
  ] as const)('maps %s to kind %s', (code, kind) => {
    expect(errnoKind(code)).toBe(kind);
  });
});

describe(CgroupfsError, () => {
  it('is a plain Error with a code, a path, a fix and a cause', () => {
    const cause = Object.assign(new Error('x'), { code: 'ENOENT' });
    const error = new CgroupfsError('ENOENT', 'gone', { path: '/f', fix: 'create it', cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'CgroupfsError',
      code: 'ENOENT',
      path: '/f',
      fix: 'create it',
      cause,
    });
    expect(errorCode(error)).toBe('ENOENT');
    expect(errorCode('text')).toBeUndefined();
  });
});
