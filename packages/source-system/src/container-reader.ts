import { UNLIMITED, openCgroupMemory, parseLimit, type CgroupMemorySample } from '@memshed/cgroupfs';

/** How the container's usage and limit are read. */
export type ContainerKind = 'cgroup-v1' | 'cgroup-v2' | 'constrained-memory';

/** The container's memory at one instant, in bytes (for constrained memory, usage is this process's RSS). */
export type ContainerSample = CgroupMemorySample;

/**
 * Reads the memory of one container: a cgroup (`@memshed/cgroupfs`'s CgroupV1Memory or
 * CgroupV2Memory) or the process's own constraint.
 */
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

/**
 * Finds the container's memory reader: the group's cgroup v2 or v1 memory files (see cgroupfs's
 * `openCgroupMemory`), else, for this process's own container, `process.constrainedMemory()`.
 * Undefined when none applies.
 */
export function locateContainer(options: LocateContainerOptions): ContainerReader | undefined {
  const memory = openCgroupMemory(options.cgroup, { root: options.root });
  if (memory) return memory;
  if (options.cgroup === 'self' && options.process) {
    const constrained = options.process.constrainedMemory();
    if (constrained !== undefined && constrained > 0 && constrained < UNLIMITED) {
      return new ConstrainedMemoryReader(options.process);
    }
  }
  return undefined;
}
