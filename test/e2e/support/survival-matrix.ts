/**
 * The end-to-end survival matrix, shared by test/e2e/survival.test.ts (the assertions,
 * in CI) and test/bench/survival.js (the whole matrix, printed as the table of docs/benchmarks.md).
 *
 * One run: examples/express-app (its TypeScript sources, through system-ts-register.js) in a fresh
 * child memory cgroup of `limitMiB`, caching a 64 KiB item per request (`--payload string`: JS
 * strings on the V8 heap; `buffer`: Buffers off it), driven by a bounded loopback load asking for a
 * new item every request (`GET /api/items/<n>`) at `rate` requests/s for `seconds`, with one guard:
 *
 * - `none`: nothing protects it (`--guard none`);
 * - `memshed`: the example's default policy (.memshedrc.yaml: v8 + system + cgroup-v1 sources,
 *   purge and gc at medium, service shutdown and HTTP shedding at critical);
 * - `under-pressure`: @fastify/under-pressure's heap and RSS checks, polled every second;
 * - `vmstat`, `psi`: the same policy fed by that one source only (`--sources vmstat`).
 *
 * It records how the run ended (alive, V8 heap OOM at t, OOM-killed at t from the cgroup's
 * memory.oom_control and the exit signal), the requests (attempted = sent + skipped by the load's
 * in-flight cap; served = 2xx; shed = 503; failed = errors and other statuses), latencies, purges,
 * and the time from the first medium (or critical) event to the cgroup's usage falling.
 */
import * as path from 'node:path';
import { readJsonLines } from '../../kernel/support/json-lines';
import { MiB, exited, withTestCgroup, type TestCgroup } from '../../kernel/support/cgroup';
import { startLoopbackLoad } from './system-loopback-load';

const ROOT = path.join(__dirname, '../../..');
const REGISTER = path.join(__dirname, 'system-ts-register.js');
const MAIN = path.join(ROOT, 'examples/express-app/src/main.ts');

/** What each request caches. */
export type Payload = 'string' | 'buffer';
/** What protects the service (see the file comment). */
export type SurvivalGuard = 'none' | 'memshed' | 'under-pressure' | 'vmstat' | 'psi';

/** Options of {@link runSurvival}. */
export interface SurvivalRunOptions {
  readonly payload: Payload;
  readonly limitMiB: number;
  readonly guard: SurvivalGuard;
  /** Length of the load, in seconds. Default 60. */
  readonly seconds?: number;
  /** Requests per second. Default 400. */
  readonly rate?: number;
  /**
   * Wraps the service's command line (`[node, ...args]`) to run it in another environment, e.g.
   * as a non-root user with a read-only cgroupfs (test/kernel/support/container.ts). It is
   * started inside the run's cgroup. Default: as it is.
   */
  readonly launch?: (argv: readonly string[]) => string[];
}

/** How a run ended. */
export type SurvivalEnd = 'alive' | 'V8 heap OOM' | 'OOM-killed' | 'died';

/** What one run did. */
export interface SurvivalRun {
  readonly payload: Payload;
  readonly limitMiB: number;
  readonly guard: SurvivalGuard;
  readonly seconds: number;
  readonly rate: number;
  readonly end: SurvivalEnd;
  /** ms from the load's start to the death, or to the end of the load when alive. */
  readonly endedAtMs: number;
  /** The exit code or signal when it died. */
  readonly exit: string | undefined;
  /** memory.oom_control's oom_kill of the run's cgroup. */
  readonly oomKills: number;
  /** Requests the load meant to send by now (sent + skipped by its in-flight cap). */
  readonly attempted: number;
  readonly sent: number;
  /** 2xx responses. */
  readonly served: number;
  /** 503 responses. */
  readonly shed: number;
  /** Errors (connection refused or reset) and responses other than 2xx and 503. */
  readonly failed: number;
  /** served / attempted. */
  readonly successRate: number;
  /** Latency of the served requests, ms. */
  readonly p50Ms: number | undefined;
  readonly p99Ms: number | undefined;
  /** cache-purge runs that dropped entries. */
  readonly purges: number;
  /** How long each gc action run took (ms): it stops the event loop while it runs. */
  readonly gcMs: readonly number[];
  /** The first medium-or-critical event (ms from the load's start) and its source. */
  readonly firstMedium: { readonly atMs: number; readonly source: string } | undefined;
  /** ms from the first medium-or-critical event to the cgroup's usage falling (8 MiB below its peak since). */
  readonly releaseMs: number | undefined;
  /** Peak cgroup usage seen, MiB. */
  readonly peakMiB: number;
  /** The cgroup's usage over the run, every 100 ms: [seconds since the load started, MiB]. */
  readonly usage: readonly (readonly [number, number])[];
  /** The guard's sources as the service reported them (`id:state`). */
  readonly sources: readonly string[];
  /** memshed's errors, as the service printed them. */
  readonly errors: readonly string[];
  /** The last lines of the service's stderr. */
  readonly stderrTail: string;
}

/** Usage falling this far below its peak since the first event counts as memory released. */
const RELEASE_DROP = 8 * MiB;

function guardArguments(guard: SurvivalGuard): string[] {
  switch (guard) {
    case 'none':
      return ['--guard', 'none'];
    case 'under-pressure':
      return ['--guard', 'under-pressure'];
    case 'vmstat':
    case 'psi':
      return ['--sources', guard];
    case 'memshed':
      return [];
  }
}

/** Runs the service once in its own cgroup and reports what happened (see the file comment). */
export async function runSurvival(options: SurvivalRunOptions): Promise<SurvivalRun> {
  const seconds = options.seconds ?? 60;
  const rate = options.rate ?? 400;
  const name = `survival-${options.payload}-${options.limitMiB}-${options.guard}`;
  return withTestCgroup(
    { name, limitBytes: options.limitMiB * MiB, timeoutMs: seconds * 1000 + 60_000 },
    (cgroup) => runIn(cgroup, options, seconds, rate),
  );
}

async function runIn(
  cgroup: TestCgroup,
  options: SurvivalRunOptions,
  seconds: number,
  rate: number,
): Promise<SurvivalRun> {
  const args = [
    '-r',
    REGISTER,
    MAIN,
    '--json',
    '--payload',
    options.payload,
    '--item-bytes',
    String(64 * 1024),
    ...guardArguments(options.guard),
  ];
  const argv = (options.launch ?? ((plain: readonly string[]) => [...plain]))([process.execPath, ...args]);
  const child = cgroup.spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: '0' },
  });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-4000);
  });
  const events: { level: string; source: string; at: number }[] = [];
  const errors: string[] = [];
  let purges = 0;
  const gcMs: number[] = [];
  let sources: string[] = [];
  let exitedAt = 0;
  child.once('exit', () => (exitedAt = Date.now()));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not listen in 30 s: ${stderr}`)), 30_000);
    readJsonLines(child, (line) => {
      if ('listening' in line) {
        clearTimeout(timer);
        sources = (line.sources as string[] | undefined) ?? [];
        resolve(Number(line.listening));
      } else if ('event' in line) {
        events.push({ level: String(line.event), source: String(line.source), at: Number(line.at) });
      } else if ('action' in line) {
        if (line.action === 'cache-purge' && line.status === 'ok' && Number(line.entries) > 0) purges++;
        if (line.action === 'gc' && line.status === 'ok') gcMs.push(Number(line.ms));
      } else if ('error' in line) errors.push(String(line.error));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`service exited before listening (${code}, ${signal}): ${stderr}`));
    });
  });

  const usage: { at: number; bytes: number }[] = [];
  const sampler = setInterval(() => {
    try {
      usage.push({ at: Date.now(), bytes: cgroup.usage() });
    } catch {
      // The cgroup is being removed: the run is over.
    }
  }, 10);
  const started = Date.now();
  // A client queue of up to 640 ms of requests (256 at 400/s): a collection that stops the service's
  // event loop for 200 ms shows as latency, as it would for real clients, not as requests never sent.
  const load = startLoopbackLoad({
    port,
    path: '/api/items/{n}',
    rate,
    maxRequests: rate * seconds,
    maxInFlight: 256,
  });
  let timer: NodeJS.Timeout | undefined;
  const died = await Promise.race([
    exited(child),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), seconds * 1000 + 500))),
  ]);
  clearTimeout(timer);
  const endedAtMs = (died ? exitedAt || Date.now() : Date.now()) - started;
  // Let the last responses arrive before counting.
  if (!died) await new Promise((resolve) => setTimeout(resolve, 300));
  clearInterval(sampler);
  const summary = load.stop();
  const latency = load.latency(200);
  const oomKills = cgroup.oomControl().oomKill;
  if (!died) {
    child.kill('SIGTERM');
    let grace: NodeJS.Timeout | undefined;
    const stopped = await Promise.race([
      exited(child),
      new Promise((resolve) => (grace = setTimeout(resolve, 3000, undefined))),
    ]);
    clearTimeout(grace);
    if (!stopped) child.kill('SIGKILL');
    await exited(child);
  }

  const end: SurvivalEnd = !died
    ? 'alive'
    : /heap out of memory/i.test(stderr)
      ? 'V8 heap OOM'
      : died.signal === 'SIGKILL' && oomKills > 0
        ? 'OOM-killed'
        : 'died';
  const served = Object.entries(summary.statuses)
    .filter(([status]) => Number(status) >= 200 && Number(status) < 300)
    .reduce((sum, [, count]) => sum + count, 0);
  const shed = summary.statuses[503] ?? 0;
  const attempted = summary.sent + summary.skipped;
  const first = events.find((event) => event.level === 'medium' || event.level === 'critical');
  return {
    payload: options.payload,
    limitMiB: options.limitMiB,
    guard: options.guard,
    seconds,
    rate,
    end,
    endedAtMs,
    exit: died ? (died.signal ?? `exit ${died.code}`) : undefined,
    oomKills,
    attempted,
    sent: summary.sent,
    served,
    shed,
    failed: summary.failed + (summary.completed - served - shed),
    successRate: attempted ? served / attempted : 0,
    p50Ms: latency?.p50,
    p99Ms: latency?.p99,
    purges,
    gcMs,
    firstMedium: first ? { atMs: first.at - started, source: first.source } : undefined,
    releaseMs: first ? releaseAfter(usage, first.at) : undefined,
    peakMiB: usage.reduce((peak, sample) => Math.max(peak, sample.bytes), 0) / MiB,
    usage: everyTenth(usage, started),
    sources,
    errors,
    stderrTail: stderr.split('\n').slice(-6).join('\n'),
  };
}

/** The usage samples (every 10 ms) from `started` on, one in ten, as [seconds, MiB]. */
function everyTenth(usage: readonly { at: number; bytes: number }[], started: number): [number, number][] {
  return usage
    .filter((sample) => sample.at >= started)
    .filter((_, index) => index % 10 === 0)
    .map((sample) => [(sample.at - started) / 1000, Math.round((sample.bytes / MiB) * 10) / 10]);
}

/** ms from `from` to the first usage sample {@link RELEASE_DROP} below the peak since `from`. */
function releaseAfter(usage: readonly { at: number; bytes: number }[], from: number): number | undefined {
  let peak = 0;
  for (const sample of usage) {
    if (sample.at < from) {
      peak = sample.bytes;
      continue;
    }
    peak = Math.max(peak, sample.bytes);
    if (sample.bytes <= peak - RELEASE_DROP) return sample.at - from;
  }
  return undefined;
}

/** The run's one-line summary, for the test's and the benchmark's output. */
export function describeRun(run: SurvivalRun): string {
  const ended =
    run.end === 'alive'
      ? `alive for the whole ${run.seconds} s`
      : `${run.end} at ${(run.endedAtMs / 1000).toFixed(1)} s (${run.exit})`;
  const ms = (value: number | undefined) => (value === undefined ? '-' : `${value.toFixed(1)} ms`);
  const warned = run.firstMedium
    ? `first medium+ event at ${(run.firstMedium.atMs / 1000).toFixed(2)} s (${run.firstMedium.source}), usage falling ${run.releaseMs ?? '-'} ms later`
    : 'no medium+ event';
  return (
    `${run.payload} ${run.limitMiB}M ${run.guard}: ${ended}; OOM kills ${run.oomKills}; ` +
    `${run.served}/${run.attempted} served (${(100 * run.successRate).toFixed(2)}%), ${run.shed} shed, ${run.failed} failed; ` +
    `p50 ${ms(run.p50Ms)}, p99 ${ms(run.p99Ms)}; ${run.purges} purges, ${run.gcMs.length} gc runs (max ${Math.max(0, ...run.gcMs)} ms); ` +
    `${warned}; peak ${run.peakMiB.toFixed(0)} MiB` +
    (run.errors.length ? `; errors: ${run.errors.join(' | ')}` : '')
  );
}
