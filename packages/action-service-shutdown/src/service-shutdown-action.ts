import type { ActionContext, ActionResult, SheddingAction } from '@memshed/core';
import { shedPriorityRank, type ShedPriority } from '@memshed/shed-priority';
import type { Subscription } from 'rxjs';
import { EMPTY, NEVER, distinctUntilChanged, switchMap, timer } from '@memshed/core/rx';
import type { ServiceShutdownOptions } from './service-shutdown-options';
import type { ServiceRegistry, ServiceStartReport, ServiceStopReport } from './service-registry';

/**
 * Stops the registered services below a priority, lowest first (services of one priority in
 * parallel, priorities one after the other), each gracefully within a timeout, then with its
 * force hook if it has one. A service is never stopped twice: only running services are stopped.
 * With `restart`, the services it stopped are started again, highest priority first, once the
 * monitor has stayed `normal` for `restart.after`.
 */
export class ServiceShutdownAction implements SheddingAction {
  /** The plugin id. */
  readonly id = 'service-shutdown';
  /** Services this action stopped and may start again. */
  private readonly stopped = new Set<string>();
  private watch: Subscription | undefined;
  private restarting = false;
  private disposed = false;

  constructor(
    /** Validated options. */
    readonly options: ServiceShutdownOptions,
    private readonly registry: ServiceRegistry,
  ) {}

  /** The priority threshold for a state: services strictly below it are stopped. */
  thresholdFor(level: ActionContext['level']): ShedPriority | undefined {
    if (level === 'normal') return undefined;
    return this.options.below ?? this.options.levels[level];
  }

  async run(context: ActionContext): Promise<ActionResult> {
    const below = this.thresholdFor(context.level);
    const candidates = below ? this.registry.select(below) : [];
    if (!below || candidates.length === 0) {
      return {
        freedBytes: 0,
        estimated: false,
        summary: below
          ? `no running service below priority ${below}`
          : `nothing to stop at level ${context.level}`,
        details: { stopped: [] },
      };
    }
    if (context.dryRun) {
      return {
        summary: `would stop ${candidates.map((s) => `${s.name} (${s.priority})`).join(', ')}`,
        details: { stopped: [], below, wouldStop: candidates.map((s) => s.name) },
      };
    }

    const reports: ServiceStopReport[] = [];
    // One priority at a time, lowest first; the services of one priority stop together.
    const groups = new Map<ShedPriority, string[]>();
    for (const service of candidates)
      groups.set(service.priority, [...(groups.get(service.priority) ?? []), service.name]);
    for (const names of groups.values()) {
      if (context.signal.aborted) break;
      const group = await Promise.all(
        names.map((name) =>
          this.registry.stop(name, {
            timeout: this.options.timeout,
            forceTimeout: this.options.forceTimeout,
            scheduler: context.scheduler,
          }),
        ),
      );
      reports.push(...group);
    }

    const stopped = reports.filter((r) => r.result === 'stopped' || r.result === 'forced').map((r) => r.name);
    for (const report of reports) if (report.error) context.report(report.error);
    if (this.options.restart) {
      for (const name of stopped) this.stopped.add(name);
      // A service that timed out without force is still stopping: restart it too once it stops.
      for (const r of reports) if (r.result === 'timeout') this.stopped.add(r.name);
      this.watchForRecovery(context);
    }
    const forced = reports.filter((r) => r.result === 'forced').map((r) => r.name);
    const failed = reports.filter((r) => r.result === 'failed' || r.result === 'timeout').map((r) => r.name);
    return {
      summary:
        `stopped ${stopped.length ? stopped.join(', ') : 'nothing'} (below ${below})` +
        (forced.length ? `; forced ${forced.join(', ')}` : '') +
        (failed.length ? `; not stopped: ${failed.join(', ')}` : ''),
      details: {
        stopped,
        below,
        services: reports.map(({ error, ...report }) =>
          error ? { ...report, error: error.message } : report,
        ),
      },
    };
  }

  /** Stops watching for recovery; services already stopped stay stopped. Idempotent. */
  dispose(): void {
    this.disposed = true;
    this.watch?.unsubscribe();
    this.watch = undefined;
  }

  private watchForRecovery(context: ActionContext): void {
    const restart = this.options.restart;
    if (!restart || this.watch || this.disposed || this.stopped.size === 0) return;
    if (context.state$ === NEVER) {
      context.logger.warn(
        'service-shutdown: restart is configured but the runner has no monitor state: services stay stopped',
      );
      return;
    }
    this.watch = context.state$
      .pipe(
        distinctUntilChanged(),
        // Hysteresis: each return to normal restarts the wait; any pressure cancels it. While normal,
        // it tries again every `after` for services that were still draining.
        switchMap((state) =>
          state === 'normal' ? timer(restart.after, restart.after, context.scheduler) : EMPTY,
        ),
      )
      .subscribe(() => void this.restartAll(context));
  }

  private async restartAll(context: ActionContext): Promise<void> {
    const restart = this.options.restart;
    if (!restart || this.restarting) return;
    this.restarting = true;
    try {
      const names = [...this.stopped]
        .map((name) => this.registry.get(name))
        .filter((s) => s !== undefined)
        .sort((a, b) => shedPriorityRank(b.priority) - shedPriorityRank(a.priority));
      const reports: ServiceStartReport[] = [];
      for (const service of names) {
        if (service.state === 'stopping') continue; // still draining: try at the next recovery
        this.stopped.delete(service.name);
        if (service.state !== 'stopped' || !service.restartable) continue;
        reports.push(
          await this.registry.start(service.name, { timeout: restart.timeout, scheduler: context.scheduler }),
        );
      }
      for (const name of this.stopped) if (!this.registry.get(name)) this.stopped.delete(name);
      const started = reports.filter((r) => r.result === 'started').map((r) => r.name);
      if (started.length)
        context.logger.info(`service-shutdown: pressure is gone, started ${started.join(', ')} again`);
      for (const report of reports) if (report.error) context.report(report.error);
    } finally {
      this.restarting = false;
      if (this.stopped.size === 0) {
        this.watch?.unsubscribe();
        this.watch = undefined;
      }
    }
  }
}
