/**
 * The end-to-end survival matrix, shared by test/e2e/survival.test.ts (the assertions,
 * in CI) and test/bench/survival.js (the whole matrix, printed as the table of docs/benchmarks.md).
 *
 * One run: examples/express-app (its TypeScript sources, through system-ts-register.js) in a fresh
 * child memory cgroup of `limitMiB`, caching an item of `itemBytes` (default 64 KiB) per request
 * (`--payload string`: JS strings on the V8 heap; `buffer`: Buffers off it), driven by a bounded
 * loopback load asking for a new item every request (`GET /api/items/<n>?bytes=<size>`) at `rate`
 * requests/s for `seconds`: the service grows by itemBytes x rate per second (1 MiB/s is 2.5 KiB
 * at 400 requests/s; 250 MiB/s is 640 KiB). `bursts` switch the item size to a larger one for a
 * while at a fixed period; `prefillMiB` has the service cache that much before it takes requests
 * (and before memshed starts), so that a slow growth reaches pressure within the run. One guard:
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

/** Periodic bursts of growth: from `everyMs` on, every `everyMs`, `forMs` of requests ask for `itemBytes`. */
export interface SurvivalBursts {
  readonly everyMs: number;
  readonly forMs: number;
  readonly itemBytes: number;
}

/**
 * Watches a run from outside the service (the growth benchmark's kernel and PSI listeners): called
 * once the run's cgroup exists, before the service starts; the function it returns (or resolves to)
 * is called when the run is over, before the cgroup is removed.
 */
export type SurvivalObserver = (
  cgroup: TestCgroup,
) => (() => Promise<void> | void) | Promise<() => Promise<void> | void>;

/** Options of {@link runSurvival}. */
export interface SurvivalRunOptions {
  readonly payload: Payload;
  readonly limitMiB: number;
  readonly guard: SurvivalGuard;
  /** Length of the load, in seconds. Default 60. */
  readonly seconds?: number;
  /** Requests per second. Default 400. */
  readonly rate?: number;
  /** Bytes cached per request. Default 64 KiB. */
  readonly itemBytes?: number;
  /** Bursts of larger items. Default none. */
  readonly bursts?: SurvivalBursts;
  /** MiB of items the service caches before it takes requests. Default 0. */
  readonly prefillMiB?: number;
  /**
   * Wraps the service's command line, `[node, ...args]`, in another one that starts it (a launcher
   * that drops privileges, for example): the wrapper runs inside the run's cgroup and must exec
   * the command it is given with the environment it got. Default: the command as is.
   */
  readonly launch?: (argv: readonly string[]) => readonly string[];
  /** Extra environment for the service (over this process's). */
  readonly env?: Readonly<Record<string, string>>;
  /** Watches the run from outside (see {@link SurvivalObserver}). */
  readonly observe?: SurvivalObserver;
}

/** The growth of a run, in MiB/s: bytes per request x requests per second (bursts aside). */
export function growthMiBs(options: Pick<SurvivalRunOptions, 'itemBytes' | 'rate'>): number {
  return ((options.itemBytes ?? DEFAULT_ITEM_BYTES) * (options.rate ?? DEFAULT_RATE)) / MiB;
}

/**
 * The prefill that brings the service to where memshed's default policy acts, so that a slow growth
 * meets pressure within a short run: for Buffers, close below the system source's medium (75% of
 * the limit), with node and the service's own ~60 MiB beside it, so that the first medium comes
 * 5-10 s in; for strings, at the v8 source's medium (60% of the 259 MB heap limit) at once: the
 * heap commits more than the strings' own size while they are made, and how much differs between
 * Node lines (85 MiB gave a medium after 17 s on Node 20 and none in 20 s on Node 26), so the
 * strings runs start with a purge and then grow at the slow rate. Measured on this machine.
 */
export function prefillFor(payload: Payload, limitMiB: number): number {
  if (payload === 'string') return 95;
  return Math.max(0, Math.round(limitMiB * 0.75 - 75));
}

/** Bytes per request for `mibPerSecond` of growth at `rate` requests/s (whole bytes). */
export function itemBytesFor(mibPerSecond: number, rate = DEFAULT_RATE): number {
  return Math.round((mibPerSecond * MiB) / rate);
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
  readonly itemBytes: number;
  /** itemBytes x rate, MiB/s (bursts aside). */
  readonly growthMiBs: number;
  readonly bursts: SurvivalBursts | undefined;
  readonly prefillMiB: number;
  /** When the load started (epoch ms): the zero of every `...Ms` and `atMs` of this run. */
  readonly startedAt: number;
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
  /** Times memshed's state rose from below medium to medium or critical during the load. */
  readonly episodes: number;
  /** When the cgroup's usage first reached its limit (within 1 MiB; ms from the load's start), if it did. */
  readonly limitReachedMs: number | undefined;
  /** Peak cgroup usage seen, MiB. */
  readonly peakMiB: number;
  /** The cgroup's usage over the run, every 100 ms: [seconds since the load started, MiB]. */
  readonly usage: readonly (readonly [number, number])[];
  /** The guard's sources as the service reported them (`id:state`). */
  readonly sources: readonly string[];
  /** Why each of them that is unavailable there is, as the service reported it (`id: reason. Fix: hint`). */
  readonly unavailable: readonly string[];
  /** memshed's errors, as the service printed them. */
  readonly errors: readonly string[];
  /** The last lines of the service's stderr. */
  readonly stderrTail: string;
  /**
   * What happened when, for reading a run that went wrong: memshed's state changes, its first event
   * per source and level in each episode, its action runs, and every 250 ms of requests that shed
   * or failed any (`+1.25 s state critical`, `+1.25 s 2xx 41, 503 60`), in time order.
   */
  readonly timeline: readonly string[];
}

/** Usage falling this far below its peak since the first event counts as memory released. */
const RELEASE_DROP = 8 * MiB;
const DEFAULT_ITEM_BYTES = 64 * 1024;
const DEFAULT_RATE = 400;
/** The cache's bound: far above what fits in 512M even at 2.5 KiB per item, so memory is what limits it. */
const MAX_ITEMS = 250_000;

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
  const rate = options.rate ?? DEFAULT_RATE;
  const name = `survival-${options.payload}-${options.limitMiB}-${options.guard}`;
  return withTestCgroup(
    { name, limitBytes: options.limitMiB * MiB, timeoutMs: seconds * 1000 + 90_000 },
    async (cgroup) => {
      const stopObserving = await options.observe?.(cgroup);
      try {
        return await runIn(cgroup, options, seconds, rate);
      } finally {
        await stopObserving?.();
      }
    },
  );
}

async function runIn(
  cgroup: TestCgroup,
  options: SurvivalRunOptions,
  seconds: number,
  rate: number,
): Promise<SurvivalRun> {
  const itemBytes = options.itemBytes ?? DEFAULT_ITEM_BYTES;
  const prefillMiB = options.prefillMiB ?? 0;
  const argv = [
    process.execPath,
    '-r',
    REGISTER,
    MAIN,
    '--json',
    '--payload',
    options.payload,
    '--item-bytes',
    String(itemBytes),
    '--max-items',
    String(MAX_ITEMS),
    '--prefill-mib',
    String(prefillMiB),
    ...guardArguments(options.guard),
  ];
  const [command, ...args] = options.launch ? options.launch(argv) : argv;
  const child = cgroup.spawn(command, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env, PORT: '0' },
  });
  let stderr = '';
  child.stderr!.on('data', (data: Buffer) => {
    stderr = (stderr + data.toString()).slice(-4000);
  });
  const events: { level: string; source: string; at: number }[] = [];
  const states: { state: string; at: number }[] = [];
  const happenings: { at: number; text: string }[] = [];
  const errors: string[] = [];
  let purges = 0;
  const gcMs: number[] = [];
  let sources: string[] = [];
  let unavailable: string[] = [];
  let exitedAt = 0;
  child.once('exit', () => (exitedAt = Date.now()));

  const port = await new Promise<number>((resolve, reject) => {
    // A prefill of hundreds of MiB, on a busy machine, takes a while before the service listens.
    const timer = setTimeout(() => reject(new Error(`service did not listen in 60 s: ${stderr}`)), 60_000);
    readJsonLines(child, (line) => {
      if ('listening' in line) {
        clearTimeout(timer);
        sources = (line.sources as string[] | undefined) ?? [];
        unavailable = (line.unavailable as string[] | undefined) ?? [];
        resolve(Number(line.listening));
      } else if ('state' in line) {
        states.push({ state: String(line.state), at: Number(line.at) });
        happenings.push({ at: Number(line.at), text: `state ${String(line.state)}` });
      } else if ('event' in line) {
        events.push({ level: String(line.event), source: String(line.source), at: Number(line.at) });
        happenings.push({
          at: Number(line.at),
          text: `first ${String(line.event)} from ${String(line.source)}`,
        });
      } else if ('action' in line) {
        happenings.push({
          at: Number(line.at),
          text: `${String(line.policy)}: ${String(line.action)} ${String(line.status)} in ${String(line.ms)} ms, ${String(line.summary ?? '')}`,
        });
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
  const bursts = options.bursts;
  const load = startLoopbackLoad({
    port,
    path: (n, elapsedMs) => {
      const inBurst = bursts && elapsedMs >= bursts.everyMs && elapsedMs % bursts.everyMs < bursts.forMs;
      return `/api/items/${n}?bytes=${inBurst ? bursts.itemBytes : itemBytes}`;
    },
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
  // Every request in flight gets its answer before counting (bounded): a queue cut short is not
  // the service failing.
  if (!died) {
    const settleBy = Date.now() + 5000;
    while (load.summary.sent > load.summary.completed + load.summary.failed && Date.now() < settleBy)
      await new Promise((resolve) => setTimeout(resolve, 20));
  }
  clearInterval(sampler);
  const summary = load.stop();
  const latency = load.latency(200);
  for (const [bucketMs, statuses] of load.timeline(250)) {
    const served = Object.entries(statuses).filter(
      ([status]) => Number(status) >= 200 && Number(status) < 300,
    );
    if (served.length === Object.keys(statuses).length) continue;
    happenings.push({
      at: started + bucketMs,
      text: `requests sent: ${Object.entries(statuses)
        .map(([status, count]) => `${status} x${count}`)
        .join(', ')}`,
    });
  }
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
  const pressed = (state: string) => state === 'medium' || state === 'critical';
  let episodes = 0;
  let before = 'normal';
  for (const { state, at } of states) {
    if (at >= started && pressed(state) && !pressed(before)) episodes++;
    before = state;
  }
  const full = usage.find((sample) => sample.at >= started && sample.bytes >= options.limitMiB * MiB - MiB);
  return {
    payload: options.payload,
    limitMiB: options.limitMiB,
    guard: options.guard,
    seconds,
    rate,
    itemBytes,
    growthMiBs: growthMiBs({ itemBytes, rate }),
    bursts,
    prefillMiB,
    startedAt: started,
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
    episodes,
    limitReachedMs: full ? full.at - started : undefined,
    peakMiB: usage.reduce((peak, sample) => Math.max(peak, sample.bytes), 0) / MiB,
    usage: everyTenth(usage, started),
    sources,
    unavailable,
    errors,
    stderrTail: stderr.split('\n').slice(-6).join('\n'),
    timeline: happenings
      .filter(({ at }) => at >= started)
      .sort((a, b) => a.at - b.at)
      .map(({ at, text }) => `+${((at - started) / 1000).toFixed(2)} s ${text}`),
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

/** The run's growth, e.g. `25 MiB/s (64 KiB x 400/s)`, `1 MiB/s ... prefilled 120 MiB`, with bursts. */
export function describeGrowth(run: SurvivalRun): string {
  const kib = (bytes: number) => `${Math.round((bytes / 1024) * 10) / 10} KiB`;
  const mibs = (value: number) => `${Math.round(value * 10) / 10} MiB/s`;
  const bursts = run.bursts
    ? `, bursts of ${mibs((run.bursts.itemBytes * run.rate) / MiB)} for ${run.bursts.forMs} ms every ${run.bursts.everyMs / 1000} s`
    : '';
  const prefill = run.prefillMiB ? `, prefilled ${run.prefillMiB} MiB` : '';
  return `${mibs(run.growthMiBs)} (${kib(run.itemBytes)} x ${run.rate}/s${bursts}${prefill})`;
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
    `${run.payload} ${run.limitMiB}M ${run.guard} at ${describeGrowth(run)}: ${ended}; OOM kills ${run.oomKills}; ` +
    `${run.served}/${run.attempted} served (${(100 * run.successRate).toFixed(2)}%), ${run.shed} shed, ${run.failed} failed; ` +
    `p50 ${ms(run.p50Ms)}, p99 ${ms(run.p99Ms)}; ${run.purges} purges, ${run.gcMs.length} gc runs (max ${Math.max(0, ...run.gcMs)} ms); ` +
    `${warned}; ${run.episodes} pressure episodes; peak ${run.peakMiB.toFixed(0)} MiB` +
    (run.errors.length ? `; errors: ${run.errors.join(' | ')}` : '')
  );
}
