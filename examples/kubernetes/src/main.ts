/**
 * Runs the service, as the Deployment does: `node dist/main.js`.
 *
 *   PORT            the port (8080)
 *   HOST            the address (0.0.0.0 in the container: the kubelet probes the pod's IP)
 *   MEMSHED_CONFIG  memshed's config (/etc/memshed/.memshedrc.yaml, the mounted ConfigMap)
 *
 * Writes one JSON line per change of memshed's state and of readiness (what `kubectl logs` shows),
 * and stops on SIGTERM (the kubelet's stop): no new connections, memshed stopped, exit 0.
 */
import { consoleLogger } from '@memshed/core';
import { DEFAULT_CONFIG_FILE, DEFAULT_PORT, startServer } from './server';

function log(fields: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ time: new Date().toISOString(), ...fields }) + '\n');
}

async function main(): Promise<void> {
  const port = Number(process.env.PORT ?? DEFAULT_PORT);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`PORT=${process.env.PORT} is not a port: set a number from 0 to 65535, e.g. PORT=8080`);
  }
  const running = await startServer({
    port,
    host: process.env.HOST ?? '0.0.0.0',
    configFile: process.env.MEMSHED_CONFIG ?? DEFAULT_CONFIG_FILE,
    logger: consoleLogger('info'),
  });
  log({
    listening: running.url,
    sources: running.memshed.sources.map((source) => `${source.id}:${source.state}`),
  });
  running.memshed.level$.subscribe((state) => log({ state }));
  running.readiness.ready$.subscribe((ready) => log({ ready }));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log({ stopping: signal });
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
