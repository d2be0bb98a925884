import { MemshedError } from '@memshed/core';
import { Command, CommanderError } from 'commander';
import { registerDoctor } from './commands/doctor';
import { registerPlugins } from './commands/plugins';
import { registerRun } from './commands/run';
import { registerSimulate } from './commands/simulate';
import { registerValidate } from './commands/validate';
import { registerWatch } from './commands/watch';
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
  for (const register of [
    registerDoctor,
    registerWatch,
    registerSimulate,
    registerValidate,
    registerRun,
    registerPlugins,
  ]) {
    register(program, io, setExit);
  }
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
    if (MemshedError.is(error)) {
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

function version(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('../package.json') as { version: string }).version;
}
