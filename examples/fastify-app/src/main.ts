/** Runs the example: the API on 127.0.0.1:$PORT (3000), metrics on 127.0.0.1:$METRICS_PORT (9464). */
import { startServer } from './server';

async function main(): Promise<void> {
  const running = await startServer({
    port: Number(process.env.PORT ?? 3000),
    metricsPort: Number(process.env.METRICS_PORT ?? 9464),
  });
  for (const { id, state, availability, error } of running.memshed.sources) {
    // An optional source unavailable here was skipped: no error, only the reason.
    const skipped = state === 'unavailable' && !error;
    const why = error?.message ?? (availability.available ? undefined : availability.reason);
    console.log(`source ${id}: ${skipped ? 'skipped (optional)' : state}${why ? ` (${why})` : ''}`);
  }
  console.log(`fastify-app listening on ${running.url}; metrics at ${running.metrics.url}`);
  running.memshed.level$.subscribe((state) => console.log(`memshed state: ${state}`));
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
