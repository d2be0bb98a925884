import express, { type Express, type RequestHandler } from 'express';
import { loadShedding, type LoadShedder } from '@memshed/http';
import type { Registry } from 'prom-client';
import { MAX_ITEM_BYTES, type ItemService } from './item-service';
import type { JobService } from './job-service';

/** What the API serves. */
export interface AppParts {
  /** memshed's load shedding; none without memshed. */
  readonly shedder?: LoadShedder;
  /** Another guard in front of the routes (the `under-pressure` comparison), if any. */
  readonly guard?: RequestHandler;
  readonly registry: Registry;
  readonly items: ItemService;
  readonly jobs: JobService;
}

/**
 * The Express 5 API: load shedding first (so a shed request costs nothing), then the routes.
 *
 * - `GET /healthz`, `GET /metrics`: essential, never shed.
 * - `GET /memshed/status`: the shedder's state (served by the middleware).
 * - `GET /api/items/:id[?bytes=N]`: an item, through the lru-cache; a new one is rendered with a
 *   payload of N bytes (default: the service's item size, at most 16 MiB).
 * - `POST /api/jobs`: queue a background job (priority `low`: shed from `medium`).
 * - `GET /api/reports/:name`: an expensive report (priority `background`: shed from `low`).
 */
export function createApp({ shedder, guard, registry, items, jobs }: AppParts): Express {
  const app = express();
  app.disable('x-powered-by');

  if (shedder) {
    // #region middleware
    app.use(loadShedding(shedder));
    // #endregion middleware
  }
  if (guard) app.use(guard);

  app.get('/healthz', (_req, res) => {
    res.type('text/plain').send('ok');
  });

  // #region metrics-route
  app.get('/metrics', async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  });
  // #endregion metrics-route

  app.get('/api/items/:id', (req, res) => {
    const bytes = req.query.bytes === undefined ? undefined : Number(req.query.bytes);
    if (bytes !== undefined && !(Number.isInteger(bytes) && bytes > 0 && bytes <= MAX_ITEM_BYTES)) {
      res
        .status(400)
        .json({ error: `bytes=${String(req.query.bytes)}: give a whole number from 1 to ${MAX_ITEM_BYTES}` });
      return;
    }
    const item = items.get(req.params.id, bytes);
    res.json({ id: item.id, name: item.name, digest: item.digest, bytes: item.payload.length });
  });

  app.post('/api/jobs', express.json({ limit: '16kb' }), (req, res) => {
    const size = Number((req.body as { size?: unknown } | undefined)?.size ?? 64 * 1024);
    const id = `job-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    if (!jobs.enqueue({ id, size })) {
      res
        .status(503)
        .set('Retry-After', '30')
        .json({ error: 'the job service is paused under memory pressure' });
      return;
    }
    res.status(202).json({ id, pending: jobs.pending });
  });

  app.get('/api/reports/:name', (req, res) => {
    res.json({ report: req.params.name, items: items.cache.size, jobs: jobs.processed });
  });

  return app;
}
