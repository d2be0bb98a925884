/**
 * Runs the example API. Listens on 127.0.0.1:$PORT (3000).
 *
 *   node dist/main.js                        memshed's sources and policy from .memshedrc.yaml
 *   node dist/main.js --simulate [scenario]  the simulated machine of scenarios/burst.yaml, in real time
 *   node dist/main.js --sources psi          only these sources (comma-separated ids), default options
 *   node dist/main.js --guard under-pressure @fastify/under-pressure's heap/RSS checks instead of memshed
 *   node dist/main.js --guard none           no protection at all
 *   node dist/main.js --payload string --item-bytes 65536   cache 64 KiB JS strings per new item id
 *   node dist/main.js --json                 one JSON object per line on stdout (listening, state, action, event)
 */
import { consoleLogger, silentLogger } from '@memshed/core';
import { VmscanSimSource, loadScenario } from '@memshed/source-vmscan-sim';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EXAMPLE_DIR, startServer, type Guard, type RunningServer } from './server';

const GUARDS: readonly Guard[] = ['memshed', 'under-pressure', 'none'];

/** The command line (node's own parseArgs: unknown flags and missing values are errors). */
function parseCommandLine(args: string[]) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      simulate: { type: 'boolean', default: false },
      sources: { type: 'string' },
      guard: { type: 'string', default: 'memshed' },
      payload: { type: 'string', default: 'buffer' },
      'item-bytes': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const guard = values.guard as Guard;
  if (!GUARDS.includes(guard)) throw new Error(`--guard ${guard}: use one of ${GUARDS.join(', ')}`);
  const payload = values.payload;
  if (payload !== 'buffer' && payload !== 'string')
    throw new Error(`--payload ${payload}: use buffer or string`);
  const itemBytes = values['item-bytes'] === undefined ? undefined : Number(values['item-bytes']);
  if (itemBytes !== undefined && !(Number.isInteger(itemBytes) && itemBytes > 0))
    throw new Error(`--item-bytes ${values['item-bytes']}: give a whole number of bytes, e.g. 65536`);
  if (positionals.length > (values.simulate ? 1 : 0))
    throw new Error(`unexpected argument ${positionals.at(-1)}: only --simulate takes one (a scenario file)`);
  return {
    json: values.json,
    scenario: values.simulate ? (positionals[0] ?? join(EXAMPLE_DIR, 'scenarios', 'burst.yaml')) : undefined,
    guard,
    payload: payload as 'buffer' | 'string',
    itemBytes,
    sourceIds: values.sources?.split(',').filter(Boolean),
  };
}

/** Writes what happens: JSON lines (stamped with the wall clock) or text for people. */
function reporter(json: boolean) {
  return (fields: Record<string, unknown>, text: string) => {
    if (json) process.stdout.write(JSON.stringify({ ...fields, at: Date.now() }) + '\n');
    else console.log(text);
  };
}

function watch(running: RunningServer, report: ReturnType<typeof reporter>): void {
  const memshed = running.memshed;
  if (!memshed) return;
  memshed.level$.subscribe((state) => report({ state }, `memshed state: ${state}`));
  memshed.actions$.subscribe((record) =>
    report(
      {
        action: record.name,
        policy: record.policy,
        level: record.level,
        status: record.status,
        freedBytes: record.freedBytes,
        entries: record.details?.entries,
        ms: record.finishedAt - record.startedAt,
        summary: record.summary,
      },
      `action ${record.name}: ${record.status} ${record.summary ?? ''}`,
    ),
  );
  // The first event of each source and level per episode: which source warned, and when.
  const seen = new Set<string>();
  memshed.level$.subscribe((state) => state === 'normal' && seen.clear());
  memshed.events$.subscribe((event) => {
    const key = `${event.source} ${event.level}`;
    if (seen.has(key)) return;
    seen.add(key);
    report(
      { event: event.level, source: event.source, scope: event.scope },
      `first ${event.level} event from ${event.source} (${event.scope})`,
    );
  });
  memshed.errors$.subscribe((error) => report({ error: error.message }, `memshed: ${error.message}`));
}

async function main(): Promise<void> {
  const { json, scenario, guard, payload, itemBytes, sourceIds } = parseCommandLine(process.argv.slice(2));
  const report = reporter(json);

  const running = await startServer({
    port: Number(process.env.PORT ?? 3000),
    guard,
    logger: json ? silentLogger : consoleLogger('info'),
    items: { payload, ...(itemBytes ? { payloadBytes: itemBytes } : {}) },
    ...(scenario ? { sources: [new VmscanSimSource({ scenario: loadScenario(scenario) })] } : {}),
    ...(sourceIds ? { sourceIds } : {}),
  });
  const port = Number(new URL(running.url).port);
  report(
    {
      listening: port,
      guard,
      sources: running.memshed?.sources.map((s) => `${s.id}:${s.state}`),
      thresholds: running.underPressure?.thresholds,
    },
    `express-app listening on ${running.url} (guard: ${guard}; status: ${running.url}/memshed/status, metrics: ${running.url}/metrics)`,
  );
  watch(running, report);
  const stop = () => {
    const shed = running.shedder?.counters.shed ?? running.underPressure?.shed() ?? 0;
    report({ stopped: true, shed, cached: running.items.cache.size }, `stopping (${shed} requests shed)`);
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
