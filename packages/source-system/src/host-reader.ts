import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseMeminfo } from '@memshed/cgroupfs';
import type { PressureLevel } from '@memshed/core';

/** What the operating system says about the machine's memory. */
export type HostMemory =
  /** Total and available bytes (Linux MemAvailable, Windows available physical memory): thresholds apply. */
  | { readonly kind: 'available'; readonly total: number; readonly available: number }
  /** A level the OS decided itself (macOS): `normal` or a pressure level. */
  | { readonly kind: 'level'; readonly level: PressureLevel | 'normal'; readonly raw: number };

/** Reads the machine's memory on one platform. */
export interface HostMemoryReader {
  /** What it reads, for doctor: `MemAvailable (/proc/meminfo)`. */
  readonly description: string;
  /** Whether the platform code was tested on a real machine of its kind (only Linux here). */
  readonly tested: boolean;
  /** Reads now. Linux and Windows read synchronously; macOS runs `sysctl`. */
  read(): HostMemory | Promise<HostMemory>;
}

/**
 * Linux: MemAvailable against MemTotal from /proc/meminfo (below `root`), read in place: no process
 * per sample. Kernels before 3.14 have no MemAvailable; MemFree + Buffers + Cached stands in.
 */
export class MeminfoReader implements HostMemoryReader {
  readonly description = 'MemAvailable (/proc/meminfo)';
  readonly tested = true;
  private readonly file: string;

  constructor(root = '/') {
    this.file = path.join(root, 'proc/meminfo');
  }

  read(): HostMemory {
    const info = parseMeminfo(readFileSync(this.file, 'utf8'));
    const total = info.MemTotal;
    if (!(total > 0)) throw new Error(`${this.file} has no MemTotal`);
    const available = info.MemAvailable ?? (info.MemFree ?? 0) + (info.Buffers ?? 0) + (info.Cached ?? 0);
    return { kind: 'available', total, available };
  }
}

/** Where the Windows reader gets its numbers: Node's `os` module. */
export interface OsMemory {
  /** `os.totalmem()`. */
  totalmem(): number;
  /** `os.freemem()`: on Windows, `ullAvailPhys` of GlobalMemoryStatusEx. */
  freemem(): number;
}

/**
 * Windows' memory load (`dwMemoryLoad` of GlobalMemoryStatusEx, the percentage of physical memory
 * in use), computed as it is from the same call's total and available physical memory, which
 * `os.totalmem()` / `os.freemem()` return: no process, no native code.
 */
export function windowsMemoryLoad(total: number, available: number): number {
  if (!(total > 0)) return 0;
  return Math.round(((total - available) * 100) / total);
}

/**
 * Windows: available physical memory against the total, from `os` (GlobalMemoryStatusEx). Untested
 * here: no Windows machine; the computation is unit-tested from recorded numbers.
 */
export class WindowsMemoryReader implements HostMemoryReader {
  readonly description = 'memory load (GlobalMemoryStatusEx through os.freemem)';
  readonly tested = false;

  constructor(private readonly os: OsMemory) {}

  read(): HostMemory {
    return { kind: 'available', total: this.os.totalmem(), available: this.os.freemem() };
  }
}

/** `kern.memorystatus_vm_pressure_level`: 1 normal, 2 warn, 4 critical (xnu's kVMPressure*). */
export function darwinPressureLevel(value: number): PressureLevel | 'normal' {
  switch (value) {
    case 4:
      return 'critical';
    case 2:
      return 'medium';
    case 1:
      return 'normal';
    default:
      throw new Error(`unknown kern.memorystatus_vm_pressure_level ${value} (expected 1, 2 or 4)`);
  }
}

/**
 * Parses the output of `sysctl kern.memorystatus_vm_pressure_level` (`name: value`) or of
 * `sysctl -n ...` (the value alone).
 */
export function parseDarwinSysctl(output: string): number {
  const match = /^(?:kern\.memorystatus_vm_pressure_level\s*[:=]\s*)?(\d+)\s*$/.exec(output.trim());
  if (!match) throw new Error(`unexpected sysctl output: ${JSON.stringify(output.slice(0, 80))}`);
  return Number(match[1]);
}

/** Runs `sysctl -n <name>` and resolves with its stdout. */
export type SysctlRunner = (name: string) => Promise<string>;

/**
 * macOS: the kernel's own pressure level, `kern.memorystatus_vm_pressure_level`, read with
 * `sysctl -n` (one short process per sample: Node has no sysctlbyname; keep the interval at a
 * second or more). Untested here: no macOS machine; the parser is unit-tested from recorded output.
 */
export class DarwinPressureReader implements HostMemoryReader {
  readonly description = 'kern.memorystatus_vm_pressure_level (sysctl)';
  readonly tested = false;

  constructor(private readonly sysctl: SysctlRunner) {}

  async read(): Promise<HostMemory> {
    const raw = parseDarwinSysctl(await this.sysctl('kern.memorystatus_vm_pressure_level'));
    return { kind: 'level', level: darwinPressureLevel(raw), raw };
  }
}
