import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  parseKeyedFile,
  parseLimit,
  parseMemoryEvents,
  parseOomControl,
  type MemoryEvents,
  type OomControl,
} from './memory-files';
import { tryLocateCgroup, type LocateCgroupOptions } from './proc-cgroup';

/** A memory cgroup's memory at one instant, in bytes. */
export interface CgroupMemorySample {
  /** Charged to the group: v1 memory.usage_in_bytes, v2 memory.current. */
  readonly usage: number;
  /**
   * Usage less the inactive file pages, which the kernel reclaims first and cheapest (kubelet's
   * "working set"): the part of usage that pushes towards the OOM killer.
   */
  readonly workingSet: number;
  /** The limit that applies, the lowest up the hierarchy; Infinity when there is none. */
  readonly limit: number;
}

/** Reads one memory cgroup's files (v1 or v2). Every read throws the Node errno error when a file is gone. */
export interface CgroupMemory {
  /** Which interface it reads. */
  readonly kind: 'cgroup-v1' | 'cgroup-v2';
  /** The group's path inside its hierarchy (`/process_api/x`). */
  readonly name: string;
  /** The directory of the group's control files. */
  readonly directory: string;
  /** The usage file: v1 memory.usage_in_bytes (where usage thresholds are registered), v2 memory.current. */
  readonly usageFile: string;
  /** Usage now, in bytes. */
  usage(): number;
  /** The lowest limit of the group and its ancestors, Infinity when there is none. */
  limit(): number;
  /** memory.stat as numbers. */
  stat(): Record<string, number>;
  /** Usage, working set and limit now. */
  sample(): CgroupMemorySample;
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

function readNumber(file: string): number {
  return Number(readText(file).trim());
}

/**
 * cgroup v1 memory controller: memory.usage_in_bytes, memory.limit_in_bytes, memory.stat (its
 * `hierarchical_memory_limit` is the lowest limit of the group and its ancestors), memory.oom_control.
 */
export class CgroupV1Memory implements CgroupMemory {
  readonly kind = 'cgroup-v1';

  constructor(
    readonly name: string,
    readonly directory: string,
  ) {}

  get usageFile(): string {
    return path.join(this.directory, 'memory.usage_in_bytes');
  }

  usage(): number {
    return readNumber(this.usageFile);
  }

  limit(): number {
    return this.limitFrom(this.stat());
  }

  stat(): Record<string, number> {
    return parseKeyedFile(readText(path.join(this.directory, 'memory.stat')));
  }

  /** memory.oom_control now. */
  oomControl(): OomControl {
    return parseOomControl(readText(path.join(this.directory, 'memory.oom_control')));
  }

  sample(): CgroupMemorySample {
    const usage = this.usage();
    const stat = this.stat();
    const inactiveFile = stat.total_inactive_file ?? stat.inactive_file ?? 0;
    return { usage, workingSet: Math.max(0, usage - inactiveFile), limit: this.limitFrom(stat) };
  }

  private limitFrom(stat: Record<string, number>): number {
    const own = parseLimit(readText(path.join(this.directory, 'memory.limit_in_bytes')));
    const hierarchical =
      stat.hierarchical_memory_limit === undefined
        ? Infinity
        : parseLimit(String(stat.hierarchical_memory_limit));
    return Math.min(own, hierarchical);
  }
}

/**
 * cgroup v2: memory.current, memory.stat, memory.events, and the lowest of memory.max and
 * memory.high of the group and every ancestor up to the mount (memory.high is where the kernel
 * starts throttling the group into reclaim: the limit it really lives under).
 */
export class CgroupV2Memory implements CgroupMemory {
  readonly kind = 'cgroup-v2';

  constructor(
    readonly name: string,
    readonly directory: string,
    /** The hierarchy's mount point: the limit walk stops there. Undefined: the group's own limits only. */
    private readonly mountPoint?: string,
  ) {}

  get usageFile(): string {
    return path.join(this.directory, 'memory.current');
  }

  /** memory.events, which the kernel marks modified (inotify) when a counter moves. */
  get eventsFile(): string {
    return path.join(this.directory, 'memory.events');
  }

  usage(): number {
    return readNumber(this.usageFile);
  }

  stat(): Record<string, number> {
    return parseKeyedFile(readText(path.join(this.directory, 'memory.stat')));
  }

  /** The counters of memory.events now. */
  events(): MemoryEvents {
    return parseMemoryEvents(readText(this.eventsFile));
  }

  sample(): CgroupMemorySample {
    const usage = this.usage();
    const stat = this.stat();
    return { usage, workingSet: Math.max(0, usage - (stat.inactive_file ?? 0)), limit: this.limit() };
  }

  limit(): number {
    let limit = Infinity;
    const top = path.resolve(this.mountPoint ?? this.directory);
    for (let dir = path.resolve(this.directory); dir.startsWith(top); dir = path.dirname(dir)) {
      for (const file of ['memory.max', 'memory.high']) {
        try {
          limit = Math.min(limit, parseLimit(readText(path.join(dir, file))));
        } catch {
          // The real root group has no memory.max; a namespace's root (a container's own group) has.
        }
      }
      if (dir === top) break;
    }
    return limit;
  }
}

function readable(file: string): boolean {
  try {
    readFileSync(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * The memory files of a cgroup (`self` or a path below the mount, see `locateCgroup`): cgroup v2
 * when the group has memory.current (the memory controller is enabled there), else the cgroup v1
 * memory controller when its usage file is readable. Undefined when neither is.
 */
export function openCgroupMemory(group: string, options: LocateCgroupOptions = {}): CgroupMemory | undefined {
  const v2 = tryLocateCgroup('v2', group, options);
  if (v2 && readable(path.join(v2.directory, 'memory.current'))) {
    return new CgroupV2Memory(v2.path, path.resolve(v2.directory), path.resolve(v2.mountPoint));
  }
  const v1 = tryLocateCgroup('v1', group, options);
  if (v1 && readable(path.join(v1.directory, 'memory.usage_in_bytes'))) {
    return new CgroupV1Memory(v1.path, path.resolve(v1.directory));
  }
  return undefined;
}

/**
 * The memory files of the cgroup directory `directory` (v1 memory.usage_in_bytes, else v2
 * memory.current), when readable. A v2 group opened this way reads its own limits only.
 */
export function openCgroupMemoryAt(directory: string): CgroupMemory | undefined {
  const resolved = path.resolve(directory);
  if (readable(path.join(resolved, 'memory.usage_in_bytes'))) return new CgroupV1Memory(resolved, resolved);
  if (readable(path.join(resolved, 'memory.current'))) return new CgroupV2Memory(resolved, resolved);
  return undefined;
}
