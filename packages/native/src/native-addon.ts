import * as path from 'node:path';
import { MemshedError } from '@memshed/core';

/** The addon as built from addon/memshed_native.cc (Linux) or addon/unsupported.cc (elsewhere). */
export interface NativeAddon {
  readonly platformSupported: boolean;
  watchEventfd?(callback: (count: number) => void): RawNativeWatcher;
  watchPriority?(path: string, text: string, callback: (event: { error: boolean }) => void): RawNativeWatcher;
  mallocTrim?(): { available: boolean; released: boolean; reason?: string };
}

/** The object the addon returns: the public {@link NativeWatcher} shape. */
export interface RawNativeWatcher {
  readonly fd: number;
  readonly closed: boolean;
  readonly paused: boolean;
  close(): void;
  ref(): this;
  unref(): this;
  pause(): this;
  resume(): this;
}

/** Whether the addon can be used here, and if not why and what to do. */
export type NativeAvailability = { available: true } | { available: false; reason: string; hint: string };

/** Where node-gyp puts the addon, relative to both src/ (tests) and dist/ (built package). */
export const ADDON_PATH = path.join(__dirname, '..', 'build', 'Release', 'memshed_native.node');

/**
 * Loads the addon once, on first use, and remembers why it could not (so importing
 * `@memshed/native` never throws, and every caller gets the same explanation).
 */
export class AddonLoader {
  private state:
    { addon: NativeAddon } | { availability: NativeAvailability & { available: false } } | undefined;

  constructor(
    private readonly load: () => unknown,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {}

  /** Whether the addon loaded here (loading it if not tried yet). */
  availability(): NativeAvailability {
    const state = this.resolve();
    return 'addon' in state ? { available: true } : state.availability;
  }

  /** The loaded addon. @throws MemshedError `unavailable` with the reason and the fix. */
  addon(feature: string): NativeAddon {
    const state = this.resolve();
    if ('addon' in state) return state.addon;
    const { reason, hint } = state.availability;
    throw new MemshedError('unavailable', `${feature} is unavailable: ${reason}`, {
      fix: hint,
      context: { feature, platform: this.platform },
    });
  }

  private resolve() {
    if (this.state) return this.state;
    if (this.platform !== 'linux') {
      this.state = {
        availability: {
          available: false,
          reason: `memshed's native watchers (eventfd, POLLPRI) are Linux-only; this platform is ${this.platform}`,
          hint: 'use a portable source (e.g. v8 or system) on this platform',
        },
      };
      return this.state;
    }
    try {
      const addon = this.load() as NativeAddon;
      if (!addon || addon.platformSupported !== true)
        throw new Error('the addon was built without Linux support');
      this.state = { addon };
    } catch (error) {
      const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
      this.state = {
        availability: {
          available: false,
          reason: `the @memshed/native addon is not built or does not load (${detail})`,
          hint:
            'rebuild it with `npm rebuild @memshed/native` (needs python3, make, a C++17 compiler and the ' +
            'Node headers; node-gyp uses /usr/include/node when present)',
        },
      };
    }
    return this.state;
  }
}

/** The process-wide loader of build/Release/memshed_native.node. */
// A .node file can only be loaded with require(); loading lazily keeps the import side-effect free.
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const addonLoader = new AddonLoader(() => require(ADDON_PATH));

interface ErrnoLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

/**
 * Turns an addon failure (`code` = errno name) into a MemshedError whose kind and fix say what
 * to do: EACCES/EPERM -> permission, ENOENT -> unavailable, EINVAL/EBUSY -> invalid-argument.
 * The errno name is in the message and in `context.code`.
 */
export function errnoError(
  error: unknown,
  what: string,
  fixes: Partial<Record<string, string>> = {},
): MemshedError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrnoLike;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const detail = typeof e.message === 'string' ? e.message : String(error);
  const context = { code, errno: e.errno, syscall: e.syscall, path: e.path };
  const kind =
    code === 'EACCES' || code === 'EPERM'
      ? 'permission'
      : code === 'EINVAL' || code === 'EBUSY'
        ? 'invalid-argument'
        : code === 'ENOENT' ||
            code === 'ENODEV' ||
            code === 'EOPNOTSUPP' ||
            code === 'EMFILE' ||
            code === 'ENFILE'
          ? 'unavailable'
          : 'internal';
  const fix = (code && fixes[code]) ?? DEFAULT_FIXES[code ?? ''];
  return new MemshedError(kind, `${what}: ${detail}`, { cause: error, fix, context });
}

const DEFAULT_FIXES: Record<string, string> = {
  EACCES: 'run as root, or give this user write access to the file',
  EPERM: 'run as root (or with CAP_SYS_RESOURCE for PSI windows that are not multiples of 2 s)',
  ENOENT:
    'check that the file exists on this kernel (PSI needs CONFIG_PSI and psi=1; cgroup v1 files need the v1 memory controller)',
  EINVAL: "check the text written: PSI wants '<some|full> <stall us> <window us>', window 0.5-10 s",
  EBUSY: 'a trigger is already armed on this file: open it again for another trigger',
  EMFILE: 'this process is out of file descriptors: raise `ulimit -n` or close unused watchers',
  ENFILE: 'the system is out of file descriptors',
};
