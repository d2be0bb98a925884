import type { MemshedError } from '@memshed/core';
import { Command, CommanderError } from 'commander';
import { defineCommands } from './commands/definitions';
import { ExitCode } from './exit-codes';
import { processIo, writeLine, type CliIo } from './io';

/** Builds the `memshed` program; `setExit` receives each command's exit code. */
export function buildProgram(io: CliIo, setExit: (code: ExitCode) => void): Command {
  const program = new Command('memshed')
    .description('Shed memory before the kernel or V8 kills your app: watch pressure, run policies.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .exitOverride();
  defineCommands(program, io, setExit);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/**
 * Runs the command line `argv` (without node and script) and resolves to the exit code: 0 ok,
 * 1 runtime failure, 2 bad usage or bad config. Never rejects.
 */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<ExitCode> {
  let code: ExitCode = ExitCode.Ok;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (isMemshedError(error)) {
      writeLine(io.stderr, `memshed: ${error.message}`);
      return error.kind === 'invalid-argument' ||
        error.kind === 'invalid-config' ||
        error.kind === 'unknown-plugin'
        ? ExitCode.Usage
        : ExitCode.Failure;
    }
    writeLine(
      io.stderr,
      `memshed: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
    return ExitCode.Failure;
  }
}

/**
 * `MemshedError.is` without loading @memshed/core for it: a command that failed with one has
 * loaded core already, and `--help` or a usage error should not load it at all.
 */
function isMemshedError(error: unknown): error is MemshedError {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return (require('@memshed/core') as typeof import('@memshed/core')).MemshedError.is(error);
  } catch {
    return false; // core itself does not load: reported below as the unexpected failure it is
  }
}

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../package.json') as { version: string }).version;
}
