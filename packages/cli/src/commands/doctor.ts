import { mountOf, openCgroupMemory } from '@memshed/cgroupfs';
import {
  formatBytes,
  validateOptions,
  type PressureSourceFactory,
  type SourceAvailability,
} from '@memshed/core';
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

/** The memory cgroup this process lives in, when it has a limit: the limit a container is killed at. */
export interface MemoryGroup {
  /** `cgroup-v1` or `cgroup-v2`. */
  readonly kind: string;
  /** Its path in the hierarchy, as /proc/self/cgroup names it (`/` in its own cgroup namespace). */
  readonly name: string;
  /** The directory of its files. */
  readonly directory: string;
  /** Its limit (the lowest up the hierarchy) in bytes. */
  readonly limit: number;
  /** The read-only mount its files are on, when they are (a container's /sys/fs/cgroup). */
  readonly readOnlyMount: string | undefined;
}

/** Where this process runs, as far as choosing a source is concerned. */
export interface DoctorEnvironment {
  /** The user id (non-root users cannot register cgroup v1 events on groups they do not own). */
  readonly uid: number | undefined;
  /** This process's memory cgroup when it has a limit (a container, a service with MemoryMax), else undefined. */
  readonly memoryGroup: MemoryGroup | undefined;
}

/** Reads {@link DoctorEnvironment} below `root` (`/` on a real machine). Never throws. */
export function detectEnvironment(root = '/'): DoctorEnvironment {
  let memoryGroup: MemoryGroup | undefined;
  try {
    const memory = openCgroupMemory('self', { root });
    const limit = memory?.limit();
    if (memory && limit !== undefined && Number.isFinite(limit)) {
      const mount = mountOf(memory.usageFile, root);
      memoryGroup = {
        kind: memory.kind,
        name: memory.name,
        directory: memory.directory,
        limit,
        readOnlyMount: mount?.readOnly ? mount.mountPoint : undefined,
      };
    }
  } catch {
    // An unreadable group is no group: doctor still reports every source.
  }
  return { uid: process.getuid?.(), memoryGroup };
}

/**
 * The best available source for `memshed watch` when none is named, by {@link DEFAULT_SOURCE_RANK};
 * in a memory cgroup with a limit (`inGroup`), the best one that judges that group (scope
 * `cgroup`) first, since a host-wide source does not see the limit the container is killed at.
 */
export function defaultSourceId(rows: readonly SourceDiagnosis[], inGroup = false): string | undefined {
  const ranked = DEFAULT_SOURCE_RANK.map((id) => rows.find((row) => row.id === id)).filter(
    (row): row is SourceDiagnosis => row !== undefined && row.availability.available,
  );
  const scoped = inGroup
    ? ranked.find((row) => row.availability.available && row.availability.scope === 'cgroup')
    : undefined;
  return (scoped ?? ranked[0])?.id;
}

/** Options of `memshed doctor`. */
export interface DoctorOptions {
  json?: boolean;
}

/**
 * `memshed doctor --json`: one JSON object on one line, for scripts. Documented in the CLI's
 * README; fields are only ever added (`version` changes if one is removed or changes meaning).
 */
export interface DoctorReport {
  /** The shape's version: 1. */
  readonly version: 1;
  /** Where it ran. */
  readonly environment: {
    readonly uid: number | null;
    /** This process's memory cgroup when it has a limit, else null. */
    readonly memoryGroup: {
      readonly kind: string;
      readonly name: string;
      readonly directory: string;
      readonly limitBytes: number;
      readonly readOnlyMount: string | null;
    } | null;
  };
  /** Every installed source: available with what it watches, or why not and the fix. */
  readonly sources: readonly {
    readonly id: string;
    readonly description: string;
    readonly available: boolean;
    /** What it watches (available sources). */
    readonly detail?: string;
    /** Whose memory it judges (available sources): `cgroup`, `host`, `process`, or null when unsaid. */
    readonly scope?: 'cgroup' | 'host' | 'process' | null;
    /** Why not (unavailable sources). */
    readonly reason?: string;
    /** The fix (unavailable sources). */
    readonly hint?: string;
  }[];
  /** What `memshed watch` watches without --source, or null. */
  readonly defaultSource: string | null;
  /** The order the default is picked in (a cgroup-scoped source first inside a memory cgroup with a limit). */
  readonly rank: readonly string[];
}

/** Builds the `--json` report. */
export function doctorReport(rows: readonly SourceDiagnosis[], environment: DoctorEnvironment): DoctorReport {
  const group = environment.memoryGroup;
  return {
    version: 1,
    environment: {
      uid: environment.uid ?? null,
      memoryGroup: group
        ? {
            kind: group.kind,
            name: group.name,
            directory: group.directory,
            limitBytes: group.limit,
            readOnlyMount: group.readOnlyMount ?? null,
          }
        : null,
    },
    sources: rows.map((row) => {
      const a = row.availability;
      return a.available
        ? {
            id: row.id,
            description: row.description,
            available: true,
            detail: a.detail,
            scope: a.scope ?? null,
          }
        : { id: row.id, description: row.description, available: false, reason: a.reason, hint: a.hint };
    }),
    defaultSource: defaultSourceId(rows, group !== undefined) ?? null,
    rank: DEFAULT_SOURCE_RANK,
  };
}

/** `memshed doctor [--json]`: every source, available or not and why, with the fix. */
export async function doctor(options: DoctorOptions, io: CliIo): Promise<ExitCode> {
  const { sources } = loadBuiltinPlugins();
  const rows = await diagnoseSources(sources);
  const environment = detectEnvironment();
  if (options.json) {
    writeLine(io.stdout, JSON.stringify(doctorReport(rows, environment)));
  } else {
    printDoctor(io, rows, environment);
  }
  return ExitCode.Ok;
}

function printDoctor(io: CliIo, rows: readonly SourceDiagnosis[], environment: DoctorEnvironment): void {
  if (rows.length === 0) {
    writeLine(io.stdout, 'No source plugins are installed: memshed has nothing to watch.');
    writeLine(io.stdout, 'Install one, e.g. npm install @memshed/source-psi, or run `memshed simulate`.');
    return;
  }
  const group = environment.memoryGroup;
  const chosen = defaultSourceId(rows, group !== undefined);
  const width = Math.max(...rows.map((row) => row.id.length));
  writeLine(io.stdout, `memshed doctor: ${rows.length} source${rows.length === 1 ? '' : 's'} installed`);
  if (group) {
    writeLine(
      io.stdout,
      `Memory cgroup: ${group.kind} ${group.name}, limit ${formatBytes(group.limit)}` +
        `${group.readOnlyMount ? `, on a read-only mount (${group.readOnlyMount})` : ''}` +
        `${environment.uid !== undefined && environment.uid !== 0 ? `, uid ${environment.uid}` : ''}`,
    );
  }
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
  const order = DEFAULT_SOURCE_RANK.join(' > ');
  writeLine(
    io.stdout,
    chosen
      ? `Default source here: ${chosen} (ranked ${order}${group ? `; in a memory cgroup with a limit, one that judges the cgroup first` : ''}).`
      : `No ranked source (${DEFAULT_SOURCE_RANK.join(', ')}) is available here; \`memshed simulate\` needs none.`,
  );
}
