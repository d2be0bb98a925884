import { AddonLoader, NativeError, errnoError, type NativeAddon } from './native-addon';

const linuxAddon: NativeAddon = {
  platformSupported: true,
  mallocTrim: () => ({ available: true, released: false }),
};

describe(AddonLoader, () => {
  describe('.availability', () => {
    it('is available when the addon loads, loading it once', () => {
      const load = jest.fn(() => linuxAddon);
      const loader = new AddonLoader(load, 'linux');
      expect(loader.availability()).toEqual({ available: true });
      expect(loader.addon('x')).toBe(linuxAddon);
      expect(load).toHaveBeenCalledTimes(1);
    });

    it('says "Linux-only" on other platforms without trying to load', () => {
      const load = jest.fn(() => linuxAddon);
      const availability = new AddonLoader(load, 'darwin').availability();
      expect(availability).toMatchObject({ available: false, reason: expect.stringContaining('Linux-only') });
      expect(availability).toMatchObject({
        reason: expect.stringContaining('darwin'),
        hint: expect.any(String),
      });
      expect(load).not.toHaveBeenCalled();
    });

    it('explains a missing build and how to rebuild', () => {
      const loader = new AddonLoader(() => {
        throw new Error("Cannot find module '/x/build/Release/memshed_native.node'\nRequire stack: ...");
      }, 'linux');
      expect(loader.availability()).toEqual({
        available: false,
        reason: expect.stringContaining(
          "not built or does not load (Cannot find module '/x/build/Release/memshed_native.node')",
        ),
        hint: expect.stringContaining('npm rebuild @memshed/native'),
      });
    });

    it('treats an addon built without Linux support as unavailable', () => {
      const loader = new AddonLoader(() => ({ platformSupported: false }), 'linux');
      expect(loader.availability()).toMatchObject({
        available: false,
        reason: expect.stringContaining('without Linux'),
      });
    });
  });

  describe('.addon', () => {
    it("throws a NativeError of code 'ADDON_UNAVAILABLE' naming the feature, the reason and the fix", () => {
      const loader = new AddonLoader(() => linuxAddon, 'win32');
      let error: unknown;
      try {
        loader.addon('watchEventfd (eventfd notifications)');
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(NativeError);
      expect((error as NativeError).code).toBe('ADDON_UNAVAILABLE');
      expect((error as NativeError).message).toMatch(
        /^watchEventfd \(eventfd notifications\) is unavailable: .*win32/,
      );
      expect((error as NativeError).fix).toBeDefined();
    });
  });
});

describe(errnoError, () => {
  const addonError = (code: string) =>
    Object.assign(new Error(`write /proc/pressure/memory: something (${code})`), {
      code,
      errno: 1,
      syscall: 'write',
      path: '/proc/pressure/memory',
    });

  it.each(['EACCES', 'EPERM', 'ENOENT', 'EINVAL', 'EBUSY', 'EMFILE', 'EIO'])(
    'keeps %s as the code, with the errno name in the message and the call and path',
    (code) => {
      const error = errnoError(addonError(code), 'Could not arm');
      expect(error).toBeInstanceOf(NativeError);
      expect(error).toMatchObject({ code, errno: 1, syscall: 'write', path: '/proc/pressure/memory' });
      expect(error.message).toContain(`(${code})`);
      expect(error.message.startsWith('Could not arm: write /proc/pressure/memory')).toBe(true);
    },
  );

  it('gives a fix for the errno names users meet, and lets the caller override it', () => {
    expect(errnoError(addonError('EACCES'), 'x').fix).toMatch(/root/);
    expect(errnoError(addonError('EINVAL'), 'x', { EINVAL: 'use a 2 s window' }).fix).toBe(
      'use a 2 s window',
    );
  });
});
