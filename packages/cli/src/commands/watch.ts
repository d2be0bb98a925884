import {
  MemshedError,
  consoleLogger,
  createMemshed,
  parseDuration,
  silentLogger,
  validateOptions,
  type SourceSpec,
} from '@memshed/core';
import { builtinModules, loadBuiltinPlugins } from '../builtin-plugins';
import { ExitCode } from '../exit-codes';
import { eventToJson, eventToText } from '../format';
import { writeLine, type CliIo } from '../io';
import { defaultSourceId, detectEnvironment, diagnoseSources } from './doctor';

/** Options of `memshed watch`, as commander parses them. */
export interface WatchOptions {
  source: string[];
  cgroup?: string;
  json?: boolean;
  for?: string;
  count?: string;
  verbose?: boolean;
}

/** `memshed watch [--source ID]... [--cgroup PATH] [--json]`: live pressure events. */
export async function watch(options: WatchOptions, io: CliIo): Promise<ExitCode> {
  const duration = options.for === undefined ? undefined : parseDuration(options.for);
  const count = options.count === undefined ? undefined : Number(options.count);
  if (count !== undefined && !(Number.isInteger(count) && count > 0)) {
    throw new MemshedError('invalid-argument', `--count must be a positive integer, got '${options.count}'`);
  }
  const specs = await chooseSources(options);
  const memshed = await createMemshed({
    modules: builtinModules(),
    sources: specs,
    logger: options.verbose ? consoleLogger('debug') : silentLogger,
  });
  const running = memshed.sources.filter((s) => s.state === 'running');
  for (const status of memshed.sources) {
    if (status.state !== 'running') writeLine(io.stderr, `memshed: ${status.error?.message ?? status.id}`);
  }
  if (running.length === 0) {
    await memshed.stop();
    writeLine(io.stderr, 'memshed: no source could start; run `memshed doctor` to see why.');
    return ExitCode.Failure;
  }
  const what = running.map((s) =>
    s.availability.available && s.availability.detail ? `${s.id} (${s.availability.detail})` : s.id,
  );
  writeLine(
    io.stderr,
    `memshed: watching ${what.join(', ')}${duration === undefined ? '; Ctrl-C to stop' : ''}`,
  );

  let seen = 0;
  return new Promise<ExitCode>((resolve) => {
    // Sources never keep a process alive by themselves (they unref); `watch` is the process, so
    // it holds the event loop open until it is done.
    const keepAlive = setInterval(() => undefined, 2 ** 30);
    const finish = (code: ExitCode) => {
      clearInterval(keepAlive);
      subscription.unsubscribe();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (timer) clearTimeout(timer);
      void memshed.stop().then(() => resolve(code));
    };
    const onSignal = () => finish(ExitCode.Ok);
    const subscription = memshed.events$.subscribe((event) => {
      writeLine(io.stdout, options.json ? eventToJson(event) : eventToText(event));
      if (count !== undefined && ++seen >= count) finish(ExitCode.Ok);
    });
    // errors$ replays the sources that did not start, which the status lines above have shown.
    const shown = new Set(memshed.sources.map((status) => status.error));
    subscription.add(
      memshed.errors$.subscribe((error) => {
        if (!shown.has(error)) writeLine(io.stderr, `memshed: ${error.message}`);
      }),
    );
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const timer = duration === undefined ? undefined : setTimeout(() => finish(ExitCode.Ok), duration);
  });
}

/**
 * The options that point source `id` at a cgroup: `{ cgroup }` for the sources that take one at the
 * top level (cgroup-v1, psi, vmstat), `{ container: { cgroup } }` for system, whose container part
 * judges that group's headroom.
 */
export function cgroupOptions(id: string, cgroup: string): Record<string, unknown> {
  return id === 'system' ? { container: { cgroup } } : { cgroup };
}

async function chooseSources(options: WatchOptions): Promise<SourceSpec[]> {
  const { sources } = loadBuiltinPlugins();
  let ids = options.source;
  if (ids.length === 0) {
    const inGroup = detectEnvironment().memoryGroup !== undefined;
    const chosen = defaultSourceId(await diagnoseSources(sources), inGroup);
    if (!chosen) {
      throw new MemshedError('unavailable', 'No pressure source is available on this machine', {
        fix: 'run `memshed doctor` to see why, or `memshed simulate` for a simulated machine',
      });
    }
    ids = [chosen];
  }
  const cgroup = options.cgroup;
  if (cgroup === undefined) return ids.map((id) => ({ use: id }));
  // The list in the fix is what the schemas accept, so that it names exactly the sources that work.
  const takesCgroup = (id: string) => {
    const factory = sources.find((f) => f.id === id);
    return factory !== undefined && validateOptions(factory.optionsSchema, cgroupOptions(id, cgroup)).ok;
  };
  return ids.map((id) => {
    const factory = sources.find((f) => f.id === id);
    if (factory && !takesCgroup(id)) {
      const accepting = sources.map((f) => f.id).filter(takesCgroup);
      throw new MemshedError('invalid-argument', `--cgroup does not apply to source '${id}'`, {
        fix: `drop --cgroup, or watch a source that takes a cgroup (${accepting.join(', ')})`,
      });
    }
    return { use: id, with: cgroupOptions(id, cgroup) };
  });
}
