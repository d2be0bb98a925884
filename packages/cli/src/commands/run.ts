import {
  consoleLogger,
  formatBytes,
  formatDuration,
  isSkippedSource,
  parseDuration,
  silentLogger,
  type ActionRunRecord,
  type MemshedError,
  type PressureEvent,
} from '@memshed/core';
import {
  ConfigError,
  createMemshedFromConfig,
  loadConfig,
  type ConfiguredMemshed,
  type LoadedConfig,
} from '@memshed/config';
import type { PolicyDecision } from '@memshed/policy';
import { ExitCode } from '../exit-codes';
import { writeLine, type CliIo } from '../io';
import { reportConfigError } from './validate';

/** Options of `memshed run`, as commander parses them. */
export interface RunOptions {
  config?: string;
  dryRun?: boolean;
  safe?: boolean;
  json?: boolean;
  for?: string;
  grace: string;
  verbose?: boolean;
}

/** The signals `memshed run` stops on. */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * `memshed run [--config FILE] [--dry-run] [--json]`: starts the config's sources, applies its
 * policies and logs each decision until SIGINT or SIGTERM; then stops the policies, gives running
 * actions `--grace` to finish, cancels the rest through their signal, stops the sources and exits 0.
 */
export async function run(options: RunOptions, io: CliIo): Promise<ExitCode> {
  const duration = options.for === undefined ? undefined : parseDuration(options.for);
  const grace = parseDuration(options.grace);
  let loaded: LoadedConfig;
  try {
    loaded = await loadConfig({
      ...(options.config === undefined ? {} : { config: options.config }),
      safe: options.safe ?? false,
    });
  } catch (error) {
    if (!ConfigError.isConfigError(error)) throw error;
    reportConfigError(error, io, false);
    return ExitCode.Usage;
  }
  const log = new DecisionLog(io, options.json ?? false);
  const memshed = await createMemshedFromConfig({
    loaded,
    ...(options.dryRun ? { dryRun: true } : {}),
    logger: options.verbose ? consoleLogger('debug') : silentLogger,
  });
  const dryRun = options.dryRun || loaded.dryRun;
  const watching = memshed.sources.some((status) => status.state === 'running');
  log.started(loaded, memshed, dryRun, watching);
  if (!watching) {
    // The sources' own errors are in their status lines; what errors$ holds besides them is why
    // nothing runs when the sources were optional and skipped.
    const shown = new Set(memshed.sources.map((status) => status.error));
    memshed.errors$.subscribe((error) => {
      if (!shown.has(error)) log.error(error);
    });
    await memshed.stop();
    log.note('no source could start; run `memshed doctor` to see why');
    return ExitCode.Failure;
  }

  return new Promise<ExitCode>((resolve) => {
    // Sources and timers are unref'd (memshed never holds a host process open); the command does.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    const subscription = memshed.decisions$.subscribe((decision) => log.decision(decision));
    subscription.add(memshed.actions$.subscribe((record) => log.action(record)));
    // errors$ replays the sources that did not start; log.started() has shown those already.
    const shown = new Set(memshed.sources.map((status) => status.error));
    subscription.add(
      memshed.errors$.subscribe((error) => {
        if (!shown.has(error)) log.error(error);
      }),
    );
    let stopping = false;
    const stop = (reason: string) => {
      if (stopping) {
        // A second signal: do not wait for running actions.
        memshed.policies.cancel(new Error(`memshed run: ${reason} while stopping`));
        return;
      }
      stopping = true;
      log.stopping(reason, memshed.policies.busy ? grace : 0);
      if (timer) clearTimeout(timer);
      void memshed.stop({ grace }).then(() => {
        subscription.unsubscribe();
        for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
        clearInterval(keepAlive);
        log.stopped();
        resolve(ExitCode.Ok);
      });
    };
    const onSignal = (signal: NodeJS.Signals) => stop(signal);
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    const timer =
      duration === undefined ? undefined : setTimeout(() => stop(`--for ${options.for}`), duration);
  });
}

/** Writes what `memshed run` does: human lines, or one JSON object per line with `--json`. */
class DecisionLog {
  constructor(
    private readonly io: CliIo,
    private readonly json: boolean,
  ) {}

  /** The sources, then the start line; `watching`: some source runs (else the command ends at once). */
  started(config: LoadedConfig, memshed: ConfiguredMemshed, dryRun: boolean, watching: boolean): void {
    for (const status of memshed.sources) {
      const { availability } = status;
      // An optional source that is unavailable here was skipped: no error, only why.
      const skipped = isSkippedSource(status);
      const detail =
        status.state === 'running'
          ? availability.available
            ? availability.detail
            : undefined
          : skipped && !availability.available
            ? availability.reason
            : status.error?.message;
      this.emit(
        {
          type: 'source',
          source: status.id,
          state: status.state,
          ...(status.optional ? { optional: true } : {}),
          ...(detail ? { detail } : {}),
        },
        skipped
          ? `source   ${status.id}: skipped, optional and unavailable here${detail ? ` (${detail})` : ''}`
          : `source   ${status.id}: ${status.state}${detail ? ` (${detail})` : ''}`,
      );
    }
    const policies = config.policies.map((policy) => policy.name);
    // Without a running source the command ends at once: no stop signal to wait for.
    this.emit(
      { type: 'started', config: config.file, policies, dryRun },
      `running ${config.file}: ${policies.length} ${policies.length === 1 ? 'policy' : 'policies'}${policies.length ? ` (${policies.join(', ')})` : ''}${dryRun ? ', dry run' : ''}${watching ? '; SIGINT or SIGTERM to stop' : ''}`,
    );
  }

  decision(decision: PolicyDecision): void {
    switch (decision.type) {
      case 'armed':
        return this.emit(
          { type: 'armed', policy: decision.policy, state: decision.state, fireAt: iso(decision.at) },
          `armed    ${decision.policy}: state ${decision.state}, fires at ${clock(decision.at)} if it holds`,
          decision.time,
        );
      case 'disarmed':
        return this.emit(
          { type: 'disarmed', policy: decision.policy, state: decision.state },
          `disarmed ${decision.policy}: state fell to ${decision.state}`,
          decision.time,
        );
      case 'fired':
        return this.emit(
          {
            type: 'fired',
            policy: decision.policy,
            state: decision.state,
            heldForMs: decision.heldFor,
            reason: decision.reason,
            run: decision.run,
            ...(decision.signal
              ? {
                  signal: eventRecord(decision.signal),
                }
              : {}),
            dryRun: decision.dryRun,
            ...(decision.trigger
              ? {
                  trigger: eventRecord(decision.trigger),
                }
              : {}),
          },
          `fired    ${decision.policy}: ${fireReason(decision)}, state ${decision.state} held ${formatDuration(decision.heldFor)}${decision.trigger ? ` (last: ${describeEvent(decision.trigger)})` : ''}${decision.dryRun ? ', dry run' : ''}`,
          decision.time,
        );
      case 'completed': {
        const { chain } = decision;
        const freed = chain.steps.reduce((sum, step) => sum + (step.freedBytes ?? 0), 0);
        return this.emit(
          {
            type: 'completed',
            policy: decision.policy,
            ended: chain.ended,
            ...(chain.stoppedBy ? { stoppedBy: chain.stoppedBy } : {}),
            steps: chain.steps.length,
            freedBytes: freed,
            durationMs: chain.finishedAt - chain.startedAt,
          },
          `done     ${decision.policy}: ${chain.ended}${chain.stoppedBy ? ` by ${chain.stoppedBy}` : ''} after ${chain.steps.length} action(s), freed ${formatBytes(freed)} in ${formatDuration(chain.finishedAt - chain.startedAt)}`,
          decision.time,
        );
      }
      case 'backed-off':
        return this.emit(
          {
            type: 'backed-off',
            policy: decision.policy,
            delayMs: decision.delay,
            until: iso(decision.until),
            fruitless: decision.fruitless,
            why: decision.why,
          },
          `backoff  ${decision.policy}: next run in ${formatDuration(decision.delay)} at the earliest; ${decision.why}`,
          decision.time,
        );
    }
  }

  action(record: ActionRunRecord): void {
    const what = record.status === 'skipped' ? `skipped (${record.skipped})` : record.status;
    this.emit(
      {
        type: 'action',
        ...(record.policy !== undefined ? { policy: record.policy } : {}),
        action: record.action,
        name: record.name,
        status: record.status,
        ...(record.skipped ? { skipped: record.skipped } : {}),
        dryRun: record.dryRun,
        durationMs: record.finishedAt - record.startedAt,
        ...(record.freedBytes !== undefined
          ? { freedBytes: record.freedBytes, estimated: record.estimated ?? false }
          : {}),
        ...(record.summary ? { summary: record.summary } : {}),
        ...(record.details ? { details: record.details } : {}),
        ...(record.errors.length ? { errors: record.errors.map((error) => error.message) } : {}),
      },
      `action   ${record.policy ?? '-'}: ${record.name} ${what}${record.freedBytes !== undefined ? `, freed ${record.estimated ? '~' : ''}${formatBytes(record.freedBytes)}` : ''}${record.summary ? `: ${record.summary}` : ''}${record.dryRun ? ' (dry run)' : ''}`,
      record.finishedAt,
    );
  }

  error(error: MemshedError): void {
    if (this.json) this.emit({ type: 'error', kind: error.kind, message: error.message }, '');
    else writeLine(this.io.stderr, `memshed: ${error.message}`);
  }

  note(message: string): void {
    writeLine(this.io.stderr, `memshed: ${message}`);
  }

  stopping(reason: string, grace: number): void {
    this.emit(
      { type: 'stopping', reason, graceMs: grace },
      `stopping (${reason})${grace > 0 ? `: running actions have ${formatDuration(grace)} to finish` : ''}`,
    );
  }

  stopped(): void {
    this.emit({ type: 'stopped' }, 'stopped');
  }

  private emit(fields: Record<string, unknown>, text: string, time = Date.now()): void {
    if (this.json) writeLine(this.io.stdout, JSON.stringify({ time: iso(time), ...fields }));
    else writeLine(this.io.stdout, `${clock(time)}  ${text}`);
  }
}

/** Why a policy's chain started, in words. */
function fireReason(decision: Extract<PolicyDecision, { type: 'fired' }>): string {
  switch (decision.reason) {
    case 'episode':
      return 'first run of the episode';
    case 'signal':
      return `run ${decision.run}, on a new signal${decision.signal ? ` (${describeEvent(decision.signal)})` : ''}`;
    case 'cooldown':
      return `run ${decision.run}, cooldown elapsed`;
    case 'escalated':
      return `run ${decision.run}, at once: pressure rose during the last run${decision.signal ? ` (${describeEvent(decision.signal)})` : ''}`;
  }
}

/**
 * An event as `memshed run --json` writes it: its level, scope, source and, when it says, why and
 * when the source saw the level (`signalledAt`, signalled events: delivery may follow a blocked
 * event loop).
 */
function eventRecord(event: PressureEvent): {
  level: PressureEvent['level'];
  scope: string;
  source: string;
  reason?: string;
  signalledAt?: string;
} {
  return {
    level: event.level,
    scope: event.scope,
    source: event.source,
    ...(event.reason === undefined ? {} : { reason: event.reason }),
    ...(event.signalledAt === undefined ? {} : { signalledAt: iso(event.signalledAt) }),
  };
}

/** An event in words, e.g. `critical at / from system: limit in 0.3 s at 250 MiB/s`. */
function describeEvent(event: PressureEvent): string {
  return `${event.level} at ${event.scope} from ${event.source}${event.reason === undefined ? '' : `: ${event.reason}`}`;
}

function iso(time: number): string {
  return new Date(time).toISOString();
}

function clock(time: number): string {
  return iso(time).slice(11, 23);
}
