import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemshed, type Memshed, type PressureLevel } from '@memshed/core';
import { FakeSource, ManualScheduler } from '@memshed/core/testing';
import { Agent, request } from 'undici';

/** The quiet period of the test monitor: each step down takes this much virtual time. */
export const QUIET_MS = 5000;

/** A memshed driven by the test: a fake source, and virtual time for the monitor's recovery. */
export interface PressureHarness {
  readonly memshed: Memshed;
  readonly scheduler: ManualScheduler;
  readonly fake: FakeSource;
  /** Pushes `level` and lets the engine deliver it. */
  signal(level: PressureLevel, path?: string): void;
  /** Moves virtual time past every quiet period: the state steps down to normal. */
  recover(): void;
  stop(): Promise<void>;
}

/** Starts a memshed fed by a FakeSource, on a ManualScheduler (HTTP stays real, time does not). */
export async function pressureHarness(): Promise<PressureHarness> {
  const scheduler = new ManualScheduler(1_700_000_000_000);
  const fake = new FakeSource();
  const memshed = await createMemshed({ sources: [fake], scheduler, recovery: { quiet: QUIET_MS } });
  return {
    memshed,
    scheduler,
    fake,
    signal(level, path = '/') {
      fake.signal(level, path);
      scheduler.flush();
    },
    recover() {
      // critical -> medium -> low -> normal: one quiet period each.
      scheduler.advanceBy(3 * QUIET_MS);
    },
    stop: () => memshed.stop(),
  };
}

/** A server listening on a free loopback port. */
export interface Listening {
  readonly url: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1, port 0 (a free port), and closes every connection on close. */
export async function listen(server: Server): Promise<Listening> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** A response, read whole. */
export interface Fetched {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): unknown;
}

/** An HTTP client with its own connection pool, closed after the tests. */
export function client() {
  const agent = new Agent({ keepAliveTimeout: 10, connections: 16 });
  return {
    async fetch(
      url: string,
      options: { method?: 'GET' | 'HEAD' | 'POST'; body?: string } = {},
    ): Promise<Fetched> {
      const response = await request(url, {
        dispatcher: agent,
        method: options.method ?? 'GET',
        body: options.body,
      });
      const text = await response.body.text();
      return { status: response.statusCode, headers: response.headers, text, json: () => JSON.parse(text) };
    },
    close: () => agent.close(),
  };
}

/** A promise and its resolver, to hold a request handler until the test lets it finish. */
export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** What {@link httpTestbed} gives each test of an adapter. */
export interface HttpTestbed {
  /** The client, closed after the file's tests. */
  readonly http: ReturnType<typeof client>;
  /** This test's memshed, fresh for each test. */
  readonly harness: PressureHarness;
  /** Listens with `server` as {@link listen} does; closed after the test. */
  listen(server: Server): Promise<Listening>;
  /** Runs `close` after the test, before the memshed stops (for a server started another way). */
  closeAfter(close: () => Promise<unknown>): void;
}

/**
 * The setup every adapter test file shares: a fresh pressure harness for each test, one client for
 * the file, and the servers a test starts closed after it (before its memshed stops, so no request
 * outlives the memshed it was shed by). Call it at the top of a test file.
 */
export function httpTestbed(): HttpTestbed {
  const http = client();
  let harness: PressureHarness | undefined;
  const closers: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    harness = await pressureHarness();
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await harness?.stop();
    harness = undefined;
  });

  afterAll(() => http.close());

  return {
    http,
    get harness() {
      if (!harness) throw new Error('httpTestbed: the harness exists only inside a test');
      return harness;
    },
    async listen(server) {
      const listening = await listen(server);
      closers.push(listening.close);
      return listening;
    },
    closeAfter(close) {
      closers.push(close);
    },
  };
}
