import { openCgroupMemory, openCgroupMemoryAt } from '@memshed/cgroupfs';
import { readFileSync } from 'node:fs';

/** A cgroup memory usage file this process is charged to. */
export interface CgroupUsageFile {
  /** The file: v1 `memory.usage_in_bytes` or v2 `memory.current`. */
  readonly file: string;
}

/** One look at the process's memory, in bytes. */
export interface MemorySample {
  /** Resident set size. */
  readonly rss: number;
  /** V8 heap in use. */
  readonly heapUsed: number;
  /** V8 heap committed. */
  readonly heapTotal: number;
  /** Memory of C++ objects bound to JS objects, Buffers' backing stores included. */
  readonly external: number;
  /** ArrayBuffer and Buffer backing stores (part of `external`). */
  readonly arrayBuffers: number;
  /** The cgroup's usage (page cache and every process in it included), when readable. */
  readonly cgroup?: number;
}

/**
 * The usage file of this process's memory cgroup (cgroupfs's `openCgroupMemory('self')`): v2
 * `memory.current` where the memory controller is on cgroup v2, else v1 `memory.usage_in_bytes`.
 * Undefined when neither is readable (no cgroup, or the root of v2, which has no memory.current).
 */
export function ownCgroupUsageFile(): CgroupUsageFile | undefined {
  const memory = openCgroupMemory('self');
  return memory && { file: memory.usageFile };
}

/** The usage file of the cgroup directory `directory` (v1 or v2), when readable. */
export function cgroupUsageFileAt(directory: string): CgroupUsageFile | undefined {
  const memory = openCgroupMemoryAt(directory);
  return memory && { file: memory.usageFile };
}

/** Reads a usage file: bytes, or undefined when it cannot be read. */
export function readUsage(file: string): number | undefined {
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Samples the process's memory and, when given, the cgroup's usage. */
export function sampleMemory(cgroup: CgroupUsageFile | undefined): MemorySample {
  const usage = process.memoryUsage();
  const charged = cgroup ? readUsage(cgroup.file) : undefined;
  return {
    rss: usage.rss,
    heapUsed: usage.heapUsed,
    heapTotal: usage.heapTotal,
    external: usage.external,
    arrayBuffers: usage.arrayBuffers,
    ...(charged === undefined ? {} : { cgroup: charged }),
  };
}
