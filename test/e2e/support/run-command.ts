import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

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

/** The programs a slim container image has no copy of: a compiler, make, python. */
export const BUILD_TOOLS = ['cc', 'gcc', 'g++', 'c++', 'make', 'python3', 'python'] as const;

/** The file `command` names on `searchPath` (a PATH value), if any. */
export function onPath(command: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (dir && fs.existsSync(path.join(dir, command))) return path.join(dir, command);
  }
  return undefined;
}

/**
 * Makes `dir` a bin directory with node, npm and sh only (npm runs lifecycle scripts with sh), for
 * a PATH without any of {@link BUILD_TOOLS}, as in a slim container image. Returns `dir`.
 */
export function bareBinDirectory(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const npmCli = process.env.npm_execpath?.endsWith('npm-cli.js')
    ? process.env.npm_execpath
    : fs.realpathSync(onPath('npm')!);
  fs.symlinkSync(process.execPath, path.join(dir, 'node'));
  fs.symlinkSync(npmCli, path.join(dir, 'npm'));
  fs.symlinkSync('/bin/sh', path.join(dir, 'sh'));
  return dir;
}
