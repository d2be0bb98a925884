import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cgroupV2At, ownCgroupV2, ownMemoryCgroupV1, readCgroupMounts } from '@memshed/cgroupfs';

/** How the container's usage and limit are read. */
export type ContainerKind = 'cgroup-v1' | 'cgroup-v2' | 'constrained-memory';

/** The container's memory at one instant, in bytes. */
export interface ContainerSample {
  /** Charged to the container: v1 memory.usage_in_bytes, v2 memory.current, or this process's RSS. */
  readonly usage: number;
  /**
   * Usage less the inactive file pages, which the kernel reclaims first and cheapest (kubelet's
   * "working set"): the part of usage that pushes towards the OOM killer.
   */
  readonly workingSet: number;
  /** The limit that applies, the lowest up the hierarchy; Infinity when there is none. */
  readonly limit: number;
}

/** Counters of cgroup v2 memory.events. */
export interface MemoryEvents {
  /** Times the group was reclaimed below memory.low (not pressure on it). */
  readonly low: number;
  /** Times usage went over memory.high: tasks throttled into direct reclaim. */
  readonly high: number;
  /** Times usage was about to go over memory.max: reclaim at the hard limit. */
  readonly max: number;
  /** Times the group hit OOM. */
  readonly oom: number;
  /** Processes of the group killed by the OOM killer. */
  readonly oom_kill: number;
}

/** Reads the memory of one container (cgroup or process constraint). */
export interface ContainerReader {
  /** Which interface it reads. */
  readonly kind: ContainerKind;
  /** The cgroup path inside its hierarchy (`/process_api/x`), or `process` for constrained memory. */
  readonly name: string;
  /** The directory of the cgroup's control files (cgroups only). */
  readonly directory?: string;
  /** Reads usage, working set and limit now. Throws when the files are gone. */
  sample(): ContainerSample;
}

/** Above this a limit means "none": v1 writes PAGE_COUNTER_MAX pages (~2^63 bytes), Node says 2^64. */
const UNLIMITED = 2 ** 60;

/** Parses a limit file: a number of bytes, `max` (v2) or a huge v1 value; Infinity for none. */
export function parseLimit(text: string): number {
  const trimmed = text.trim();
  if (trimmed === 'max' || trimmed === '') return Infinity;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value >= UNLIMITED) return Infinity;
  return value;
}

/** Parses a flat keyed file (`memory.stat`, `memory.events`): `key value` lines into numbers. */
export function parseKeyedFile(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1).trim());
    if (Number.isFinite(value)) out[line.slice(0, space)] = value;
  }
  return out;
}

/** Parses cgroup v2 memory.events. */
export function parseMemoryEvents(text: string): MemoryEvents {
  const fields = parseKeyedFile(text);
  return {
    low: fields.low ?? 0,
    high: fields.high ?? 0,
    max: fields.max ?? 0,
    oom: fields.oom ?? 0,
    oom_kill: fields.oom_kill ?? 0,
  };
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

/**
 * cgroup v1: memory.usage_in_bytes, and from memory.stat `hierarchical_memory_limit` (the lowest
 * limit of the group and its ancestors) and `total_inactive_file`.
 */
export class CgroupV1Reader implements ContainerReader {
  readonly kind = 'cgroup-v1';

  constructor(
    readonly name: string,
    readonly directory: string,
  ) {}

  /** The file the kernel's usage thresholds are registered on. */
  get usageFile(): string {
    return path.join(this.directory, 'memory.usage_in_bytes');
  }

  /** The file registrations are written to. */
  get eventControlFile(): string {
    return path.join(this.directory, 'cgroup.event_control');
  }

  sample(): ContainerSample {
    const usage = Number(readText(this.usageFile).trim());
    const stat = parseKeyedFile(readText(path.join(this.directory, 'memory.stat')));
    const own = parseLimit(readText(path.join(this.directory, 'memory.limit_in_bytes')));
    const hierarchical =
      stat.hierarchical_memory_limit === undefined
        ? Infinity
        : parseLimit(String(stat.hierarchical_memory_limit));
    const inactiveFile = stat.total_inactive_file ?? stat.inactive_file ?? 0;
    return { usage, workingSet: Math.max(0, usage - inactiveFile), limit: Math.min(own, hierarchical) };
  }
}

/**
 * cgroup v2: memory.current, memory.stat `inactive_file`, and the lowest of memory.max and
 * memory.high of the group and every ancestor up to the mount (memory.high is where the kernel
 * starts throttling the group into reclaim: the limit it really lives under).
 */
export class CgroupV2Reader implements ContainerReader {
  readonly kind = 'cgroup-v2';

  constructor(
    readonly name: string,
    readonly directory: string,
    private readonly mountPoint: string,
  ) {}

  /** memory.events, watched for high, max and OOM notifications. */
  get eventsFile(): string {
    return path.join(this.directory, 'memory.events');
  }

  sample(): ContainerSample {
    const usage = Number(readText(path.join(this.directory, 'memory.current')).trim());
    const stat = parseKeyedFile(readText(path.join(this.directory, 'memory.stat')));
    return { usage, workingSet: Math.max(0, usage - (stat.inactive_file ?? 0)), limit: this.limit() };
  }

  /** The counters of memory.events now. */
  events(): MemoryEvents {
    return parseMemoryEvents(readText(this.eventsFile));
  }

  private limit(): number {
    let limit = Infinity;
    const mount = path.resolve(this.mountPoint);
    for (let dir = path.resolve(this.directory); dir.startsWith(mount); dir = path.dirname(dir)) {
      for (const file of ['memory.max', 'memory.high']) {
        try {
          limit = Math.min(limit, parseLimit(readText(path.join(dir, file))));
        } catch {
          // The real root group has no memory.max; a namespace's root (a container's own group) has.
        }
      }
      if (dir === mount) break;
    }
    return limit;
  }
}

/** Where the numbers come from when no cgroup is readable. */
export interface ProcessMemory {
  /** `process.constrainedMemory()`: the limit Node found for this process, 0 or undefined when none. */
  constrainedMemory(): number | undefined;
  /** This process's resident set size. */
  rss(): number;
}

/**
 * `process.constrainedMemory()` against this process's RSS: an approximation for when no cgroup file
 * is readable (it sees this process only, not its siblings in the container).
 */
export class ConstrainedMemoryReader implements ContainerReader {
  readonly kind = 'constrained-memory';
  readonly name = 'process';

  constructor(private readonly process: ProcessMemory) {}

  sample(): ContainerSample {
    const rss = this.process.rss();
    const constrained = this.process.constrainedMemory();
    const limit = constrained === undefined || constrained <= 0 ? Infinity : parseLimit(String(constrained));
    return { usage: rss, workingSet: rss, limit };
  }
}

/** Options of {@link locateContainer}. */
export interface LocateContainerOptions {
  /** `self` (this process's cgroup) or a cgroup path inside the hierarchy, e.g. `/app/workers`. */
  readonly cgroup: string;
  /** Where /proc and /sys are: `/`, or a fixture tree. */
  readonly root: string;
  /** The fallback when no cgroup is readable; none when undefined. */
  readonly process?: ProcessMemory;
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
 * Finds the container's memory reader: cgroup v2 when the group has memory.current (the memory
 * controller is enabled there), else cgroup v1 when a v1 memory hierarchy holds the group, else
 * `process.constrainedMemory()`. Undefined when none applies.
 */
export function locateContainer(options: LocateContainerOptions): ContainerReader | undefined {
  const { root } = options;
  const self = options.cgroup === 'self';

  const v2 = self ? ownCgroupV2(root) : cgroupV2At(options.cgroup, root);
  if (v2 && readable(path.join(v2.directory, 'memory.current'))) {
    return new CgroupV2Reader(v2.path, path.resolve(v2.directory), path.resolve(v2.mountPoint));
  }

  const v1 = self ? ownMemoryCgroupV1(root) : memoryCgroupV1At(options.cgroup, root);
  if (v1 && readable(path.join(v1.directory, 'memory.usage_in_bytes'))) {
    return new CgroupV1Reader(v1.path, path.resolve(v1.directory));
  }

  if (self && options.process) {
    const constrained = options.process.constrainedMemory();
    if (constrained !== undefined && constrained > 0 && constrained < UNLIMITED) {
      return new ConstrainedMemoryReader(options.process);
    }
  }
  return undefined;
}

function memoryCgroupV1At(groupPath: string, root: string): { path: string; directory: string } | undefined {
  const mount = readCgroupMounts(root).find((m) => m.type === 'cgroup' && m.controllers.includes('memory'));
  if (!mount) return undefined;
  const normalized = '/' + groupPath.split('/').filter(Boolean).join('/');
  return { path: normalized, directory: path.join(root, mount.mountPoint, normalized) };
}
