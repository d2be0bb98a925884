import type { Command } from 'commander';
import { loadBuiltinPlugins } from '../builtin-plugins';
import { ExitCode } from '../exit-codes';
import { writeLine, type CliIo } from '../io';

/** `memshed plugins [--json]`: the installed source and action plugins. */
export function registerPlugins(program: Command, io: CliIo, setExit: (code: ExitCode) => void): void {
  program
    .command('plugins')
    .description('list the installed source and action plugins')
    .option('--json', 'print one JSON document')
    .action((options: { json?: boolean }) => {
      const { sources, actions } = loadBuiltinPlugins();
      const rows = [
        ...sources.map((f) => ({ kind: 'source', id: f.id, description: f.description })),
        ...actions.map((f) => ({ kind: 'action', id: f.id, description: f.description })),
      ];
      if (options.json) {
        writeLine(io.stdout, JSON.stringify({ plugins: rows }));
      } else {
        const width = Math.max(0, ...rows.map((r) => r.id.length));
        for (const row of rows)
          writeLine(io.stdout, `${row.kind.padEnd(6)}  ${row.id.padEnd(width)}  ${row.description}`);
        if (rows.length === 0) writeLine(io.stdout, 'No plugins are installed.');
      }
      setExit(ExitCode.Ok);
    });
}
