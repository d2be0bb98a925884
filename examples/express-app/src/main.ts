/**
 * Runs the example API. Listens on 127.0.0.1:$PORT (3000).
 *
 *   node dist/main.js                        memshed's sources and policy from .memshedrc.yaml
 *   node dist/main.js --simulate [scenario]  the simulated machine of scenarios/burst.yaml, in real time
 *   node dist/main.js --sources psi          only these sources (comma-separated ids), default options
 *   node dist/main.js --guard under-pressure @fastify/under-pressure's heap/RSS checks instead of memshed
 *   node dist/main.js --guard none           no protection at all
 *   node dist/main.js --payload string --item-bytes 65536   cache 64 KiB JS strings per new item id
 *   node dist/main.js --max-items 200000     the cache's bound (default 10,000): raise it for small items
 *   node dist/main.js --prefill-mib 120      cache 120 MiB of items before taking requests
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
      'max-items': { type: 'string' },
      'prefill-mib': { type: 'string' },
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
  const maxItems = wholeNumber('--max-items', values['max-items'], '200000', 1);
  const prefillMiB = wholeNumber('--prefill-mib', values['prefill-mib'], '120', 0);
  if (positionals.length > (values.simulate ? 1 : 0))
    throw new Error(`unexpected argument ${positionals.at(-1)}: only --simulate takes one (a scenario file)`);
  return {
    json: values.json,
    scenario: values.simulate ? (positionals[0] ?? join(EXAMPLE_DIR, 'scenarios', 'burst.yaml')) : undefined,
    guard,
    payload: payload as 'buffer' | 'string',
    itemBytes,
    maxItems,
    prefillMiB,
    sourceIds: values.sources?.split(',').filter(Boolean),
  };
}

/** A whole-number flag's value (at least `min`), or undefined when not given. */
function wholeNumber(
  flag: string,
  text: string | undefined,
  example: string,
  min: number,
): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(Number.isInteger(value) && value >= min))
    throw new Error(`${flag} ${text}: give a whole number of at least ${min}, e.g. ${example}`);
  return value;
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
  const { json, scenario, guard, payload, itemBytes, maxItems, prefillMiB, sourceIds } = parseCommandLine(
    process.argv.slice(2),
  );
  const report = reporter(json);

  const running = await startServer({
    port: Number(process.env.PORT ?? 3000),
    guard,
    logger: json ? silentLogger : consoleLogger('info'),
    items: {
      payload,
      ...(itemBytes ? { payloadBytes: itemBytes } : {}),
      ...(maxItems ? { max: maxItems } : {}),
    },
    prefillBytes: (prefillMiB ?? 0) * 1024 * 1024,
    ...(scenario ? { sources: [new VmscanSimSource({ scenario: loadScenario(scenario) })] } : {}),
    ...(sourceIds ? { sourceIds } : {}),
  });
  const port = Number(new URL(running.url).port);
  report(
    {
      listening: port,
      guard,
      cached: running.items.cache.size,
      sources: running.memshed?.sources.map((s) => `${s.id}:${s.state}`),
      // Why each source that is unavailable here is (an optional one is skipped without an error).
      unavailable: running.memshed?.sources.flatMap(({ id, availability: a }) =>
        a.available ? [] : [`${id}: ${a.reason}. Fix: ${a.hint}`],
      ),
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
