import { lstatSync, type Stats } from 'node:fs';
import path from 'node:path';
import { MemshedError, isPressureLevel, type PressureLevel } from '@memshed/core';
import { tryLocateCgroup } from '@memshed/cgroupfs';

/** What the PSI source watches, resolved from its options and the environment. */
export type PsiTarget =
  | {
      /** A PSI file with triggers: /proc/pressure/memory or a v2 group's memory.pressure. */
      readonly kind: 'psi-file';
      readonly file: string;
      /** The engine node the events are signalled on. */
      readonly scope: string;
      /** systemd's single trigger text ($MEMORY_PRESSURE_WRITE), when it names the trigger. */
      readonly systemdTrigger?: { readonly text: string; readonly level: PressureLevel };
    }
  | {
      /** systemd's FIFO or AF_UNIX socket: any data read is an event. */
      readonly kind: 'fifo' | 'socket';
      readonly file: string;
      readonly scope: string;
      readonly level: PressureLevel;
      /** Written after opening, per systemd's protocol. */
      readonly write: Buffer | undefined;
    }
  | { readonly kind: 'disabled'; readonly reason: string; readonly hint: string };

/** Options that decide the target. */
export interface PsiTargetOptions {
  /** A cgroup v2 group: `self` or a path below the v2 mount. Undefined: the whole machine. */
  readonly cgroup?: string;
  /** Follow systemd's $MEMORY_PRESSURE_WATCH / $MEMORY_PRESSURE_WRITE when set. */
  readonly systemd: boolean;
  /** The level systemd's single trigger (or FIFO/socket event) signals. */
  readonly systemdLevel: PressureLevel;
  /** Filesystem root (fixtures in tests). */
  readonly root: string;
}

/**
 * Resolves the target: systemd's protocol when enabled and set (`/dev/null` means disabled), then
 * a cgroup v2 group's memory.pressure, then /proc/pressure/memory.
 */
export function resolvePsiTarget(options: PsiTargetOptions, env: NodeJS.ProcessEnv = process.env): PsiTarget {
  const watch = env.MEMORY_PRESSURE_WATCH;
  if (options.systemd && watch !== undefined && watch !== '') {
    return systemdTarget(watch, env.MEMORY_PRESSURE_WRITE, options.systemdLevel);
  }
  if (options.cgroup !== undefined) {
    const group = tryLocateCgroup('v2', options.cgroup, { root: options.root });
    if (!group) {
      return {
        kind: 'disabled',
        reason: 'no cgroup v2 hierarchy is mounted (cgroup v2 is where per-group PSI lives)',
        hint: 'omit `cgroup` to watch the whole machine (/proc/pressure/memory), or use the cgroup-v1 source',
      };
    }
    return { kind: 'psi-file', file: path.join(group.directory, 'memory.pressure'), scope: group.path };
  }
  return { kind: 'psi-file', file: path.join(options.root, 'proc/pressure/memory'), scope: '/' };
}

function systemdTarget(watch: string, write: string | undefined, level: PressureLevel): PsiTarget {
  if (watch === '/dev/null') {
    return {
      kind: 'disabled',
      reason:
        'systemd disabled memory pressure notification for this service ($MEMORY_PRESSURE_WATCH=/dev/null)',
      hint: 'set MemoryPressureWatch= in the unit, or set `systemd: false` to watch /proc/pressure/memory',
    };
  }
  const decoded = write ? Buffer.from(write, 'base64') : undefined;
  let stats: Stats;
  try {
    stats = lstatSync(watch);
  } catch (error) {
    return {
      kind: 'disabled',
      reason: `$MEMORY_PRESSURE_WATCH names ${watch}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`,
      hint: "check the unit's MemoryPressureWatch=, or set `systemd: false`",
    };
  }
  if (stats.isFIFO()) return { kind: 'fifo', file: watch, scope: '/', level, write: decoded };
  if (stats.isSocket()) return { kind: 'socket', file: watch, scope: '/', level, write: decoded };
  const text = decoded?.toString('utf8').replace(/\0+$/, '');
  return { kind: 'psi-file', file: watch, scope: '/', systemdTrigger: text ? { text, level } : undefined };
}

/** Validates the `systemdLevel` option where a string comes from outside. */
export function assertLevel(level: string): PressureLevel {
  if (!isPressureLevel(level)) {
    throw new MemshedError('invalid-argument', `Unknown level '${level}'`, {
      fix: "use 'low', 'medium' or 'critical'",
    });
  }
  return level;
}
