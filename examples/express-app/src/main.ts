/**
 * Runs the example API: `node dist/main.js` (memshed's sources from .memshedrc.yaml), or
 * `node dist/main.js --simulate [scenario]` (the simulated machine of scenarios/burst.yaml by
 * default, in real time: pressure without needing any). Listens on 127.0.0.1:$PORT (3000).
 */
import { consoleLogger } from '@memshed/core';
import { VmscanSimSource, loadScenario } from '@memshed/source-vmscan-sim';
import { join } from 'node:path';
import { EXAMPLE_DIR, startServer } from './server';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const simulate = args.indexOf('--simulate');
  const scenario =
    simulate < 0 ? undefined : (args[simulate + 1] ?? join(EXAMPLE_DIR, 'scenarios', 'burst.yaml'));
  const running = await startServer({
    port: Number(process.env.PORT ?? 3000),
    logger: consoleLogger('info'),
    ...(scenario ? { sources: [new VmscanSimSource({ scenario: loadScenario(scenario) })] } : {}),
  });
  console.log(
    `express-app listening on ${running.url} (status: ${running.url}/memshed/status, metrics: ${running.url}/metrics)`,
  );
  running.memshed.level$.subscribe((state) => console.log(`memshed state: ${state}`));
  running.memshed.actions$.subscribe((record) =>
    console.log(`action ${record.name}: ${record.status} ${record.summary ?? ''}`),
  );
  const stop = () => {
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
