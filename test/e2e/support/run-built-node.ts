import { spawnSync } from 'node:child_process';
import path from 'node:path';

/** The repository's root: scripts run there, so `require('@memshed/...')` loads the built packages. */
export const REPO_ROOT = path.resolve(__dirname, '../../..');

/** What {@link runBuiltNode} saw: exit status, output, and the wall time it took. */
export interface NodeRun {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the process could not start or was killed at the timeout (then `signal` is SIGTERM). */
  readonly error?: Error;
  /** Spawn to exit, in ms. */
  readonly ms: number;
}

/**
 * Runs `script` with `node -e` in a fresh process at the repository's root: the built packages
 * (npm test builds first), loaded the way an application loads them. Tests use it for what only
 * a separate process shows: which files node loads, and whether anything keeps the process alive.
 */
export function runBuiltNode(script: string, timeoutMs = 30_000): NodeRun {
  const started = Date.now();
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr,
    ...(result.error ? { error: result.error } : {}),
    ms: Date.now() - started,
  };
}
