import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CgroupfsError,
  CgroupV1Memory,
  UNLIMITED,
  diagnoseWriteAccess,
  errnoKind,
  locateCgroup,
  readCgroupMounts,
  type LocatedCgroup,
} from '@memshed/cgroupfs';
import { MemshedError, type MemshedErrorKind } from '@memshed/core';
import type { CgroupV1Host } from './cgroup-v1-host';
import type { CgroupV1Options } from './cgroup-v1-options';

/** The usual mount point of the cgroup v1 memory controller. */
export const DEFAULT_MEMORY_MOUNT = '/sys/fs/cgroup/memory';

/**
 * The sources that work where cgroup.event_control cannot be written (non-root, a read-only
 * cgroupfs): they only read files. Named in every fix for a refused registration.
 */
const WORKS_WITHOUT_WRITING =
  "the system source (it reads this group's usage and limit, polling), or psi (kernel triggers on /proc/pressure/memory, host-wide on cgroup v1)";

/** What a source would watch here, or why it cannot. */
export type CgroupV1Probe =
  | {
      readonly ok: true;
      /** The group; its `relativePath` is the engine scope. */
      readonly cgroup: LocatedCgroup;
      /** Its memory files. */
      readonly memory: CgroupV1Memory;
      /** The usage threshold in bytes, when one is configured. */
      readonly thresholdBytes: number | undefined;
    }
  | { readonly ok: false; readonly kind: MemshedErrorKind; readonly reason: string; readonly hint: string };

function fail(kind: MemshedErrorKind, reason: string, hint: string): CgroupV1Probe {
  return { ok: false, kind, reason, hint };
}

/**
 * Checks everything the source needs before it registers anything: Linux, a v1 memory controller,
 * the group (and its memory.pressure_level), the native addon, write access to
 * cgroup.event_control, and a limit when the usage threshold is a percentage.
 */
export function probeCgroupV1(options: CgroupV1Options, host: CgroupV1Host): CgroupV1Probe {
  if (host.platform !== 'linux') {
    return fail(
      'unavailable',
      `cgroup v1 memory notifications are unavailable on this platform (${host.platform}): they are Linux-only`,
      'use a portable source (v8, system) on this platform',
    );
  }
  let cgroup: LocatedCgroup;
  try {
    cgroup = locateCgroup('v1', options.cgroup, {
      root: host.root,
      mountPoint: fallbackMount(options, host),
    });
  } catch (error) {
    if (!(error instanceof CgroupfsError)) throw error;
    if (error.code === 'NO_HIERARCHY') {
      return fail(
        'unavailable',
        'no cgroup v1 memory controller is mounted (cgroup v2 has no memory.pressure_level)',
        'use the psi source (cgroup v2 and any kernel with PSI); or mount the v1 memory controller',
      );
    }
    return fail(
      errnoKind(error.code),
      error.message,
      error.code === 'INVALID_PATH'
        ? (error.fix ?? 'check the `cgroup` option')
        : error.code === 'OUTSIDE_MOUNT' && error.fix
          ? `${error.fix}; or use ${WORKS_WITHOUT_WRITING}`
          : 'name the cgroup explicitly with the `cgroup` option, or use the psi source',
    );
  }
  const control = path.join(cgroup.directory, 'cgroup.event_control');
  if (!fs.existsSync(control)) {
    return fail(
      'unavailable',
      `memory cgroup ${cgroup.relativePath} not found (no ${control})`,
      `create it, or fix the \`cgroup\` option: 'self' or a path below ${cgroup.mountPoint}`,
    );
  }
  if (!fs.existsSync(path.join(cgroup.directory, 'memory.pressure_level'))) {
    return fail(
      'unavailable',
      `this kernel has no memory.pressure_level in ${cgroup.directory} (vmpressure notifications removed)`,
      'use the psi source',
    );
  }
  const native = host.nativeAvailability();
  if (!native.available) return fail('unavailable', native.reason, native.hint);
  const denied = diagnoseWriteAccess(control, WORKS_WITHOUT_WRITING, host.root);
  if (denied) return fail('permission', denied.reason, denied.fix);
  try {
    fs.accessSync(path.join(cgroup.directory, 'memory.pressure_level'), fs.constants.R_OK);
  } catch {
    return fail(
      'permission',
      `not permitted to open ${path.join(cgroup.directory, 'memory.pressure_level')}`,
      `run as root, or delegate the cgroup to this user (chown its memory.* files); or use ${WORKS_WITHOUT_WRITING}`,
    );
  }
  const memory = new CgroupV1Memory(cgroup.path, cgroup.directory);
  let thresholdBytes: number | undefined;
  const threshold = options.usageThreshold;
  if (threshold && 'bytes' in threshold) thresholdBytes = threshold.bytes;
  else if (threshold) {
    const limit = readLimit(memory);
    if (limit === undefined || limit >= UNLIMITED) {
      return fail(
        'invalid-config',
        `usageThreshold ${threshold.percent}% needs a memory limit, and cgroup ${cgroup.relativePath} has none`,
        "give usageThreshold in bytes (e.g. '512M'), or set memory.limit_in_bytes",
      );
    }
    thresholdBytes = Math.floor((limit * threshold.percent) / 100);
  }
  return { ok: true, cgroup, memory, thresholdBytes };
}

/**
 * The mount to use instead of /proc/self/mountinfo's: the `mount` option, or the usual place when
 * mountinfo names none (a sandbox without it).
 *
 * @throws CgroupfsError `NO_HIERARCHY` when the `mount` option names no memory controller.
 */
function fallbackMount(options: CgroupV1Options, host: CgroupV1Host): string | undefined {
  const controls = (mount: string) => fs.existsSync(path.join(mount, 'cgroup.event_control'));
  if (options.mount !== undefined) {
    if (controls(options.mount)) return options.mount;
    throw new CgroupfsError('NO_HIERARCHY', `no cgroup v1 memory controller at ${options.mount}`);
  }
  const mounted = readCgroupMounts(host.root).some(
    (mount) => mount.type === 'cgroup' && mount.controllers.includes('memory'),
  );
  return !mounted && controls(DEFAULT_MEMORY_MOUNT) ? DEFAULT_MEMORY_MOUNT : undefined;
}

/** The group's effective limit (the lowest up the hierarchy), or undefined when it cannot be read. */
function readLimit(memory: CgroupV1Memory): number | undefined {
  try {
    return memory.limit();
  } catch {
    return undefined;
  }
}

/** A failed `cgroup.event_control` registration as a MemshedError with the fix for its errno. */
export function registrationError(
  error: CgroupfsError,
  context: { readonly source: string; readonly cgroup: string },
  mode: CgroupV1Options['mode'],
  kind: 'pressure' | 'oom' | 'usage',
): MemshedError {
  const code = error.code;
  const what = error.message.replace(/^could/, 'Could');
  const options = { cause: error, context: { ...context, code } };
  switch (code) {
    case 'EINVAL':
      return new MemshedError('invalid-argument', what, {
        ...options,
        fix:
          kind === 'pressure' && mode !== 'default'
            ? "this kernel may predate vmpressure propagation modes: use mode 'default'"
            : 'the kernel rejected the registration text; check the level and threshold options',
      });
    case 'EACCES':
    case 'EPERM':
      return new MemshedError('permission', what, {
        ...options,
        fix: `run as root, or delegate the cgroup to this user (chown its cgroup.event_control); or use ${WORKS_WITHOUT_WRITING}`,
      });
    case 'EROFS':
      return new MemshedError('permission', what, {
        ...options,
        fix: `${error.fix ?? 'the cgroup filesystem is mounted read-only here'}; or use ${WORKS_WITHOUT_WRITING}`,
      });
    case 'ENOENT':
      return new MemshedError('unavailable', what, {
        ...options,
        fix: 'the cgroup was removed: watch another one',
      });
    default:
      return new MemshedError('source-failed', what, options);
  }
}
