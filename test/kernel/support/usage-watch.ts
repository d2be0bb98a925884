/**
 * Times memory leaving a cgroup, from outside it: starts usage-poller.js (a separate process that
 * reads the cgroup's memory.usage_in_bytes every ~0.2 ms, stamped with CLOCK_MONOTONIC) and, once
 * stopped, says when the usage first fell to a target after a start time the watched process took
 * with process.hrtime.bigint(). Used by test/kernel/action-gc-release.test.ts and, through
 * kernel-support's requireTs (it imports node builtins only), by test/bench/gc-release.js.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const POLLER = path.join(__dirname, 'usage-poller.js');

/** Each change of the usage: [CLOCK_MONOTONIC ns as a string, bytes]. */
export type UsageTrace = [string, number][];

/** A running watch. */
export interface UsageWatch {
  /** Ends the watch; resolves with the trace. */
  stop(): Promise<UsageTrace>;
  /** Kills the poller if it still runs (cleanup after a failure). */
  kill(): void;
}

/** Starts watching the cgroup at `cgroupPath`; resolves once the poller reads. */
export function watchUsage(cgroupPath: string): Promise<UsageWatch> {
  const poller = spawn(process.execPath, [POLLER, cgroupPath], { stdio: ['pipe', 'pipe', 'inherit'] });
  let stdout = '';
  const closed = new Promise<UsageTrace>((resolve, reject) => {
    poller.once('error', reject);
    poller.once('close', (code) =>
      code === 0
        ? resolve(JSON.parse(stdout.split('\n')[1]) as UsageTrace)
        : reject(new Error(`usage poller exited ${code}`)),
    );
  });
  return new Promise((resolve, reject) => {
    closed.catch(reject);
    poller.stdout!.on('data', (data: Buffer) => {
      const first = stdout === '';
      stdout += data.toString();
      if (first && stdout.startsWith('ready\n')) {
        resolve({
          stop: () => {
            poller.stdin!.end();
            return closed;
          },
          kill: () => {
            if (poller.exitCode === null) poller.kill();
          },
        });
      }
    });
  });
}

/** Milliseconds from `startNs` to the first read at or below `bytes`; null if it never got there. */
export function msUntilAtOrBelow(trace: UsageTrace, startNs: string, bytes: number): number | null {
  const start = BigInt(startNs);
  const hit = trace.find(([ns, value]) => BigInt(ns) >= start && value <= bytes);
  return hit ? Number(BigInt(hit[0]) - start) / 1e6 : null;
}
