import { validateOptions, type PressureSourceFactory, type SourceAvailability } from '@memshed/core';
import { DEFAULT_SOURCE_RANK, loadBuiltinPlugins } from '../builtin-plugins';
import { ExitCode } from '../exit-codes';
import { writeLine, type CliIo } from '../io';

/** One row of the doctor's report. */
export interface SourceDiagnosis {
  readonly id: string;
  readonly description: string;
  readonly availability: SourceAvailability;
}

/** Asks every source factory, with default options, whether it can run here. Never throws. */
export async function diagnoseSources(
  factories: readonly PressureSourceFactory[],
): Promise<SourceDiagnosis[]> {
  const rows: SourceDiagnosis[] = [];
  for (const factory of factories) {
    let availability: SourceAvailability;
    try {
      const options = validateOptions(factory.optionsSchema, undefined);
      if (!options.ok) throw new Error(`default options invalid: ${options.issues[0].message}`);
      availability = await factory.create(options.value).availability();
    } catch (error) {
      availability = {
        available: false,
        reason: `checking it failed: ${error instanceof Error ? error.message : String(error)}`,
        hint: 'report this as a memshed bug',
      };
    }
    rows.push({ id: factory.id, description: factory.description, availability });
  }
  return rows;
}

/** The best available source for `memshed watch` when none is named, by {@link DEFAULT_SOURCE_RANK}. */
export function defaultSourceId(rows: readonly SourceDiagnosis[]): string | undefined {
  for (const id of DEFAULT_SOURCE_RANK) {
    if (rows.some((row) => row.id === id && row.availability.available)) return id;
  }
  return undefined;
}

/** Options of `memshed doctor`. */
export interface DoctorOptions {
  json?: boolean;
}

/** `memshed doctor [--json]`: every source, available or not and why, with the fix. */
export async function doctor(options: DoctorOptions, io: CliIo): Promise<ExitCode> {
  const { sources } = loadBuiltinPlugins();
  const rows = await diagnoseSources(sources);
  const chosen = defaultSourceId(rows);
  if (options.json) {
    const report = {
      sources: rows.map((row) => ({ id: row.id, description: row.description, ...row.availability })),
      defaultSource: chosen ?? null,
      rank: DEFAULT_SOURCE_RANK,
    };
    writeLine(io.stdout, JSON.stringify(report));
  } else {
    printDoctor(io, rows, chosen);
  }
  return ExitCode.Ok;
}

function printDoctor(io: CliIo, rows: readonly SourceDiagnosis[], chosen: string | undefined): void {
  if (rows.length === 0) {
    writeLine(io.stdout, 'No source plugins are installed: memshed has nothing to watch.');
    writeLine(io.stdout, 'Install one, e.g. npm install @memshed/source-psi, or run `memshed simulate`.');
    return;
  }
  const width = Math.max(...rows.map((row) => row.id.length));
  writeLine(io.stdout, `memshed doctor: ${rows.length} source${rows.length === 1 ? '' : 's'} installed`);
  writeLine(io.stdout);
  for (const row of rows) {
    const a = row.availability;
    const mark = a.available ? 'ok ' : 'no ';
    writeLine(io.stdout, `  ${mark} ${row.id.padEnd(width)}  ${row.description}`);
    const pad = ' '.repeat(width + 7);
    if (a.available) {
      if (a.detail) writeLine(io.stdout, `${pad}${a.detail}`);
    } else {
      writeLine(io.stdout, `${pad}why: ${a.reason}`);
      writeLine(io.stdout, `${pad}fix: ${a.hint}`);
    }
  }
  writeLine(io.stdout);
  writeLine(
    io.stdout,
    chosen
      ? `Default source here: ${chosen} (ranked ${DEFAULT_SOURCE_RANK.join(' > ')}).`
      : `No ranked source (${DEFAULT_SOURCE_RANK.join(', ')}) is available here; \`memshed simulate\` needs none.`,
  );
}
