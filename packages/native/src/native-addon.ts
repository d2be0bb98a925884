import * as path from 'node:path';

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

/**
 * The package's root, relative to both src/ (tests) and dist/ (built package): node-gyp-build looks
 * for a local compile in build/Release first, then for a prebuilt addon in
 * prebuilds/<platform>-<arch>/ (shipped for linux-x64 and linux-arm64 with glibc).
 */
export const PACKAGE_ROOT = path.join(__dirname, '..');

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

  /** The loaded addon. @throws NativeError `ADDON_UNAVAILABLE` with the reason and the fix. */
  addon(feature: string): NativeAddon {
    const state = this.resolve();
    if ('addon' in state) return state.addon;
    const { reason, hint } = state.availability;
    throw new NativeError('ADDON_UNAVAILABLE', `${feature} is unavailable: ${reason}`, { fix: hint });
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
            'prebuilt addons ship for linux-x64 and linux-arm64 with glibc; elsewhere (e.g. musl/Alpine) compile ' +
            'it: install python3, make and a C++17 compiler, then `npm rebuild @memshed/native`',
        },
      };
    }
    return this.state;
  }
}

/** The process-wide loader of the addon: a local build, else the prebuilt one for this platform. */
// A .node file can only be loaded with require(), and node-gyp-build is required here rather than
// imported so that importing `@memshed/native` stays side-effect free and never throws.
export const addonLoader = new AddonLoader(() => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = require('node-gyp-build') as (root: string) => unknown;
  return load(PACKAGE_ROOT);
});

/**
 * A failure of @memshed/native: a plain Error whose `code` is the errno name of the failed system
 * call (`EACCES`, `ENOENT`, `EINVAL`, `EBUSY`, `EMFILE`, ...) or `ADDON_UNAVAILABLE` (not Linux,
 * addon not built). Callers turn it into their own error type (memshed's sources into a
 * MemshedError); `fix` says what to do for the errno names users meet.
 */
export class NativeError extends Error {
  override readonly name = 'NativeError';
  /** The errno number, for errors of a system call. */
  readonly errno: number | undefined;
  /** The failed system call (`open`, `write`, `eventfd`, `uv_poll_start`). */
  readonly syscall: string | undefined;
  /** The file concerned, when there is one. */
  readonly path: string | undefined;
  /** What to do about it. */
  readonly fix: string | undefined;

  constructor(
    /** The errno name, or `ADDON_UNAVAILABLE`. */
    readonly code: string,
    message: string,
    options: { errno?: number; syscall?: string; path?: string; fix?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.errno = options.errno;
    this.syscall = options.syscall;
    this.path = options.path;
    this.fix = options.fix;
  }
}

interface ErrnoLike {
  code?: unknown;
  errno?: unknown;
  syscall?: unknown;
  path?: unknown;
  message?: unknown;
}

/**
 * Turns an addon failure (`code` = errno name) into a {@link NativeError} that keeps the errno
 * name, number, system call and path, with `what` in front of the message and a fix for the errno
 * names users meet (`fixes` overrides them per name).
 */
export function errnoError(
  error: unknown,
  what: string,
  fixes: Partial<Record<string, string>> = {},
): NativeError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as ErrnoLike;
  const code = typeof e.code === 'string' ? e.code : 'EIO';
  const detail = typeof e.message === 'string' ? e.message : String(error);
  return new NativeError(code, `${what}: ${detail}`, {
    cause: error,
    errno: typeof e.errno === 'number' ? e.errno : undefined,
    syscall: typeof e.syscall === 'string' ? e.syscall : undefined,
    path: typeof e.path === 'string' && e.path !== '' ? e.path : undefined,
    fix: fixes[code] ?? DEFAULT_FIXES[code],
  });
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
