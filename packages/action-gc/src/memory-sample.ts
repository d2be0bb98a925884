import { ownCgroupV2, ownMemoryCgroupV1 } from '@memshed/cgroupfs';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

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
 * The usage file of this process's memory cgroup: v1 `memory.usage_in_bytes` under the memory
 * controller, else v2 `memory.current`. Undefined when neither is readable (no cgroup, or the
 * root of v2, which has no memory.current).
 */
export function ownCgroupUsageFile(): CgroupUsageFile | undefined {
  const v1 = ownMemoryCgroupV1();
  if (v1) {
    const file = path.join(v1.directory, 'memory.usage_in_bytes');
    if (readUsage(file) !== undefined) return { file };
  }
  const v2 = ownCgroupV2();
  if (v2) {
    const file = path.join(v2.directory, 'memory.current');
    if (readUsage(file) !== undefined) return { file };
  }
  return undefined;
}

/** The usage file of the cgroup directory `directory` (v1 or v2), when readable. */
export function cgroupUsageFileAt(directory: string): CgroupUsageFile | undefined {
  for (const name of ['memory.usage_in_bytes', 'memory.current']) {
    const file = path.join(directory, name);
    if (readUsage(file) !== undefined) return { file };
  }
  return undefined;
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
