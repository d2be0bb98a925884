import { MemshedError, parseDuration } from '@memshed/core';
import {
  Simulation,
  builtinScenarioNames,
  loadScenario,
  renderPlotHtml,
  renderPlotSvg,
  type SimulationRecord,
} from '@memshed/source-vmscan-sim';
import { writeFileSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { ExitCode } from '../exit-codes';
import { writeLine, type CliIo } from '../io';
import { SimulateTimeline, TERMINAL_SPEED } from './simulate-timeline';

/** Options of `memshed simulate`, as commander parses them. */
export interface SimulateOptions {
  seed?: string;
  json?: boolean;
  plot?: string;
  speed?: string;
  policies: boolean;
  duration?: string;
}

/** Model time advanced per pacing step, in wall milliseconds. */
const PACING_STEP_MS = 50;

/** The built-in scenarios, one line each: name and description (the help text of `simulate`). */
export function describeBuiltins(): string {
  return builtinScenarioNames()
    .map((name) => {
      let description = '';
      try {
        description = loadScenario(name).description;
      } catch (error) {
        description = `(broken: ${error instanceof Error ? error.message : String(error)})`;
      }
      return `  ${name.padEnd(11)} ${description}`;
    })
    .join('\n');
}

/**
 * `memshed simulate [SCENARIO|FILE] [--seed N] [--json] [--plot FILE.svg|FILE.html] [--speed X]`:
 * runs a scenario on the simulated machine (the real engine and monitor, in virtual time) and
 * rehearses its policies, printing a timeline, JSON lines, and a plot.
 */
export async function simulate(reference: string, options: SimulateOptions, io: CliIo): Promise<ExitCode> {
  const seed = parseSeed(options.seed);
  const speed = parseSpeed(options.speed, io.isTTY && !options.json);
  const plot = options.plot === undefined ? undefined : plotFormat(options.plot);
  const duration = options.duration === undefined ? undefined : parseDuration(options.duration);
  if (duration !== undefined && duration <= 0) {
    throw new MemshedError('invalid-argument', `--duration must be positive, got '${options.duration}'`);
  }

  const scenario = loadScenario(reference);
  const simulation = await Simulation.create({ scenario, seed, policies: options.policies, duration });
  const timeline = new SimulateTimeline((line) => writeLine(io.stdout, line), io.isTTY && !options.json);
  const print = (record: SimulationRecord) =>
    options.json ? writeLine(io.stdout, JSON.stringify(record)) : timeline.add(record);
  for (const record of simulation.records) print(record);
  simulation.records$.subscribe(print);

  const started = process.hrtime.bigint();
  let interrupted = false;
  const onSignal = () => (interrupted = true);
  process.once('SIGINT', onSignal);
  try {
    if (speed === Infinity) {
      await simulation.run();
    } else {
      // Paced for people: advance the virtual clock a little every few wall milliseconds.
      while (!simulation.done && !interrupted) {
        await new Promise((resolve) => setTimeout(resolve, PACING_STEP_MS));
        await simulation.advanceBy(PACING_STEP_MS * speed);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    timeline.flush();
    await simulation.stop();
  }
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const notes = options.json ? io.stderr : io.stdout;
  if (interrupted)
    writeLine(io.stderr, `memshed: interrupted at ${Math.round(simulation.time / 1000)}s simulated`);
  if (!options.json && speed === Infinity) {
    writeLine(notes, `(${Math.round(simulation.time / 1000)}s simulated in ${wallMs.toFixed(0)} ms)`);
  }
  if (plot) {
    const render = plot.format === 'svg' ? renderPlotSvg : renderPlotHtml;
    try {
      writeFileSync(plot.path, render(simulation.records));
    } catch (error) {
      throw MemshedError.from(error, 'unavailable', `Cannot write the plot to ${plot.path}`, {
        fix: 'check that the directory exists and is writable',
      });
    }
    writeLine(notes, `plot written to ${plot.path}`);
  }
  return ExitCode.Ok;
}

function parseSeed(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(seed) || seed > 2 ** 32 - 1) {
    throw new MemshedError(
      'invalid-argument',
      `--seed must be an integer from 0 to 4294967295, got '${value}'`,
    );
  }
  return seed;
}

function parseSpeed(value: string | undefined, terminal: boolean): number {
  if (value === undefined) return terminal ? TERMINAL_SPEED : Infinity;
  if (value === 'max') return Infinity;
  const speed = Number(value);
  if (!(speed > 0) || !Number.isFinite(speed)) {
    throw new MemshedError('invalid-argument', `--speed must be a positive number or 'max', got '${value}'`);
  }
  return speed;
}

function plotFormat(file: string): { path: string; format: 'svg' | 'html' } {
  const extension = extname(file).toLowerCase();
  const format =
    extension === '.svg' ? 'svg' : extension === '.html' || extension === '.htm' ? 'html' : undefined;
  if (!format) {
    throw new MemshedError('invalid-argument', `--plot must name a .svg or .html file, got '${file}'`, {
      fix: 'e.g. --plot ramp.svg or --plot ramp.html',
    });
  }
  return { path: resolve(file), format };
}
