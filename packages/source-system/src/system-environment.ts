import { execFile } from 'node:child_process';
import { watch } from 'node:fs';
import * as os from 'node:os';
import { nativeAvailability, watchEventfd } from '@memshed/native';
import type { ProcessMemory } from './container-reader';
import type { OsMemory, SysctlRunner } from './host-reader';
import type { EventfdFactory } from './usage-thresholds';

/** Everything the source takes from the machine; replaced in tests. */
export interface SystemSourceEnvironment {
  /** `process.platform`. */
  readonly platform: NodeJS.Platform;
  /** This process's constraint and RSS (the fallback when no cgroup is readable). */
  readonly process: ProcessMemory;
  /** `os.totalmem()` / `os.freemem()` (Windows). */
  readonly os: OsMemory;
  /** Runs `sysctl -n` (macOS). */
  readonly sysctl: SysctlRunner;
  /** The native eventfd watcher, or why it cannot be had. */
  eventfd():
    | { readonly available: true; readonly watch: EventfdFactory }
    | { readonly available: false; readonly reason: string };
  /** Watches a file for modification (inotify: cgroup v2 memory.events); `onChange` per change. Unref'd. */
  watchFile(file: string, onChange: () => void, onError: (error: unknown) => void): { close(): void };
}

/** The real machine. */
export const runtimeEnvironment: SystemSourceEnvironment = {
  platform: process.platform,
  process: {
    constrainedMemory: () =>
      (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.(),
    rss: () => process.memoryUsage.rss(),
  },
  os: { totalmem: () => os.totalmem(), freemem: () => os.freemem() },
  sysctl: (name) =>
    new Promise((resolve, reject) =>
      execFile('sysctl', ['-n', name], { timeout: 5000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    ),
  eventfd() {
    const availability = nativeAvailability();
    return availability.available
      ? { available: true, watch: watchEventfd }
      : { available: false, reason: availability.reason };
  },
  watchFile(file, onChange, onError) {
    const watcher = watch(file, { persistent: false }, () => onChange());
    watcher.on('error', onError);
    return watcher;
  },
};
