/**
 * Why a cgroup operation failed, as a stable string: an errno name from the kernel (`ENOENT`,
 * `EACCES`, `EPERM`, `EINVAL`, `EBUSY`, `EROFS`, ...) or one of cgroupfs's own:
 * `NO_HIERARCHY` (the controller or cgroup2 is not mounted), `NO_GROUP` (this process has no entry
 * for it in /proc/self/cgroup), `OUTSIDE_MOUNT` (its group lies outside what is mounted here, another
 * cgroup namespace), `INVALID_PATH` (a path with `.` or `..` segments).
 */
export type CgroupfsErrorCode = string;

/**
 * A failure of @memshed/cgroupfs: a plain Error with a `code`, the file or directory concerned and
 * what the user can do. cgroupfs depends on nothing of memshed; callers turn it into their own
 * error type (the sources into a MemshedError of kind {@link errnoKind}(code)).
 */
export class CgroupfsError extends Error {
  override readonly name = 'CgroupfsError';

  constructor(
    /** See {@link CgroupfsErrorCode}. */
    readonly code: CgroupfsErrorCode,
    message: string,
    options: {
      /** The file or directory concerned. */
      readonly path?: string;
      /** What to do about it. */
      readonly fix?: string;
      /** The underlying error (a Node errno error). */
      readonly cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.path = options.path;
    this.fix = options.fix;
  }

  /** The file or directory concerned. */
  readonly path: string | undefined;
  /** What to do about it. */
  readonly fix: string | undefined;
}

/**
 * The kind of failure an errno name (or a cgroupfs code, or @memshed/native's
 * `ADDON_UNAVAILABLE`) stands for, spelled as memshed's error kinds so that a caller can write
 * `new MemshedError(errnoKind(error.code), ...)`: EACCES/EPERM/EROFS -> `permission`,
 * EINVAL/EBUSY/INVALID_PATH -> `invalid-argument`, a missing file, controller, group or addon,
 * or no file descriptors left -> `unavailable`, anything else -> `internal`.
 */
export function errnoKind(code: unknown): 'permission' | 'invalid-argument' | 'unavailable' | 'internal' {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'permission';
    case 'EINVAL':
    case 'EBUSY':
    case 'INVALID_PATH':
      return 'invalid-argument';
    case 'ENOENT':
    case 'ENODEV':
    case 'EOPNOTSUPP':
    case 'EMFILE':
    case 'ENFILE':
    case 'NO_HIERARCHY':
    case 'NO_GROUP':
    case 'OUTSIDE_MOUNT':
    case 'ADDON_UNAVAILABLE':
      return 'unavailable';
    default:
      return 'internal';
  }
}

/** The `code` of a thrown value (a Node errno error, a CgroupfsError, a native error), if any. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
