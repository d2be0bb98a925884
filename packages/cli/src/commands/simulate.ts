import type { Command } from 'commander';
import type { ExitCode } from '../exit-codes';
import type { CliIo } from '../io';

/** `memshed simulate`: arrives with the simulated vmscan (issue 5). */
export function registerSimulate(_program: Command, _io: CliIo, _setExit: (code: ExitCode) => void): void {}
