import { spawnSync } from 'node:child_process';

/**
 * The environment for npm and node in a project outside the workspace: this process's, without
 * the `npm_*` variables that `npm run` sets (they describe the workspace's own run), except the
 * ones that say how to install: the cache, and the Node headers node-gyp builds against.
 */
export function outsideEnvironment(): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_nodedir']);
  return Object.fromEntries(
    Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) || keep.has(key.toLowerCase())),
  );
}

/**
 * Runs `command args` in `cwd` (with `env` over {@link outsideEnvironment}) and returns its stdout;
 * throws when it fails, with the command, the directory, its status and output, so a failing step
 * says what went wrong.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  cwd: string,
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = {},
): string {
  const result = spawnSync(command, args, {
    cwd,
    encoding: 'utf8',
    env: { ...outsideEnvironment(), ...env },
    timeout: timeoutMs,
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(' ')} (in ${cwd}) ${result.error ? `failed: ${result.error.message}` : `exited ${result.status ?? result.signal}`}\n` +
        `${result.stdout}\n${result.stderr}`,
    );
  }
  return result.stdout;
}

/** Prints a step of a slow test as it starts (jest shows console output only at the end). */
export function progress(message: string): void {
  process.stderr.write(`  [${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
