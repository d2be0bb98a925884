import { Option, type Command } from 'commander';
import type { ExitCode } from '../exit-codes';
import type { CliIo } from '../io';
import type { DoctorOptions } from './doctor';
import type { PluginsOptions } from './plugins';
import type { RunOptions } from './run';
import type { SimulateOptions } from './simulate';
import type { ValidateOptions } from './validate';
import type { WatchOptions } from './watch';
import { TERMINAL_SPEED } from './simulate-timeline';

// The commands' definitions (names, arguments, options, help) without their implementations.
// Each implementation module is required when its command runs: `memshed --help`, `--version` or
// `validate` then loads commander and what that command needs, not every built-in plugin, the
// simulator and the config loader (146 module files for `--version` when they were all loaded).
/* eslint-disable @typescript-eslint/no-require-imports */
const doctorCommand = () => require('./doctor') as typeof import('./doctor');
const watchCommand = () => require('./watch') as typeof import('./watch');
const simulateCommand = () => require('./simulate') as typeof import('./simulate');
const validateCommand = () => require('./validate') as typeof import('./validate');
const runCommand = () => require('./run') as typeof import('./run');
const pluginsCommand = () => require('./plugins') as typeof import('./plugins');
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Adds memshed's commands to `program`; each reports its exit code through `setExit`. An error a
 * command throws propagates to `parseAsync` (main turns it into a message and an exit code).
 */
export function defineCommands(program: Command, io: CliIo, setExit: (code: ExitCode) => void): void {
  program
    .command('doctor')
    .description('explain which pressure sources work on this machine, and how to fix those that do not')
    .option('--json', 'print one JSON document')
    .action(async (options: DoctorOptions) => setExit(await doctorCommand().doctor(options, io)));

  program
    .command('watch')
    .description('print pressure events live, from the best source here or the ones named')
    .addOption(
      new Option('-s, --source <id>', 'a source to watch (repeatable); default: the best available')
        .argParser((value: string, previous: string[]) => [...previous, value])
        .default([]),
    )
    .option(
      '--cgroup <path>',
      "the cgroup to watch, for sources that take one ('self' or a path below the mount)",
    )
    .option('--json', 'one JSON object per line: {"time","level","scope","source",...}')
    .option('--for <duration>', 'stop after this long (e.g. 30s, or milliseconds); default: until Ctrl-C')
    .option('--count <n>', 'stop after this many events')
    .option('-v, --verbose', 'log what sources do, to stderr')
    .action(async (options: WatchOptions) => setExit(await watchCommand().watch(options, io)));

  program
    .command('simulate')
    .description('run a scenario on a simulated machine and rehearse its shedding policies, with a plot')
    .argument('[scenario]', 'a built-in scenario or a YAML/JSON scenario file', 'ramp')
    .option('--seed <n>', "the random seed (default: the scenario's); same seed, same run")
    .option('--json', 'one JSON object per line: start, sample, state, action, oom, restart, phase, end')
    .option('--plot <file>', 'write a plot: FILE.svg, or FILE.html (the plot and a table of what happened)')
    .option(
      '--speed <x>',
      `simulated seconds per second, or 'max' (default: ${TERMINAL_SPEED} on a terminal, max otherwise)`,
    )
    .option('--duration <d>', "how long to simulate, e.g. 2m, or milliseconds (default: the scenario's)")
    .option('--no-policies', "do not run the scenario's policies: see what happens without shedding")
    .addHelpText('after', () => `\nBuilt-in scenarios:\n${simulateCommand().describeBuiltins()}\n`)
    .action(async (scenario: string, options: SimulateOptions) =>
      setExit(await simulateCommand().simulate(scenario, options, io)),
    );

  program
    .command('validate')
    .description('check a config (the one found from here, or FILE): exit 0 when valid, 2 with every problem')
    .argument('[file]', 'the config file; default: found like `memshed run` finds it')
    .option('--safe', 'only JSON and YAML configs and built-in plugins: run no code from the config')
    .option('--json', 'print one JSON document: {"valid", "file", ...} or {"valid": false, "issues": [...]}')
    .action(async (file: string | undefined, options: ValidateOptions) =>
      setExit(await validateCommand().validate(file, options, io)),
    );

  program
    .command('run')
    .description(
      'watch pressure and apply the policies of a config, logging each decision, until SIGINT/SIGTERM',
    )
    .option(
      '-c, --config <file>',
      'the config file; default: .memshedrc*, memshed.config.* or package.json "memshed", from here up',
    )
    .option('--dry-run', 'actions only report what they would do')
    .option('--safe', 'only JSON and YAML configs and built-in plugins: run no code from the config')
    .option('--json', 'one JSON object per line for each decision: {"time","type","policy",...}')
    .option(
      '--for <duration>',
      'stop after this long (e.g. 30s, or milliseconds); default: until SIGINT/SIGTERM',
    )
    .option(
      '--grace <duration>',
      'on stop, how long running actions may finish before they are cancelled',
      '5s',
    )
    .option('-v, --verbose', 'log what sources and actions do, to stderr')
    .action(async (options: RunOptions) => setExit(await runCommand().run(options, io)));

  program
    .command('plugins')
    .description('list the source and action plugins (built-in, and those a config names) with their options')
    .argument('[id]', 'show only this plugin')
    .option('-c, --config <file>', 'also the plugins this config names (plugins:, use: ./module.js)')
    .option('--safe', 'with --config: only JSON and YAML configs and built-in plugins')
    .option('--json', 'print one JSON document: {"plugins": [{kind, id, description, origin, options}]}')
    .action(async (id: string | undefined, options: PluginsOptions) =>
      setExit(await pluginsCommand().listPlugins(id, options, io)),
    );
}
