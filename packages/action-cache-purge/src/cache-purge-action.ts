import { formatBytes, type ActionContext, type ActionResult, type SheddingAction } from '@memshed/core';
import { obtainGc } from '@memshed/native';
import type { CachePurgeOptions } from './cache-purge-options';
import type { CacheRegistry, PurgePlan, PurgeSummary } from './cache-registry';

/**
 * Purges the registered caches for the level it runs at: which caches (priority limit, tags),
 * how much (a fraction of the coldest entries, or all), lowest priority first. Write-back caches
 * flush dirty entries before dropping them and keep those whose flush fails; such failures are
 * reported through the run context and in the result's details. `details.entries` counts the
 * entries dropped (or, in a dry run, that would be).
 *
 * Freed bytes are estimated from sizes (Buffers, typed arrays and strings size themselves; pass
 * `sizeOf` when registering other values), or measured with garbage collections when `measure`
 * is on. Memory only returns to the kernel after a GC: run the gc action after this one.
 */
export class CachePurgeAction implements SheddingAction {
  /** The plugin id. */
  readonly id = 'cache-purge';

  constructor(
    /** Validated options. */
    readonly options: CachePurgeOptions,
    private readonly registry: CacheRegistry,
  ) {}

  /** The plan for a state: undefined when nothing is to be purged. */
  planFor(level: ActionContext['level']): PurgePlan | undefined {
    if (level === 'normal') return undefined;
    const rule = this.options.levels[level];
    const fraction = this.options.fraction ?? rule.fraction;
    if (fraction === 0) return undefined;
    return {
      fraction,
      upTo: this.options.upTo ?? rule.upTo,
      tags: this.options.tags,
      ...(this.options.enough === undefined ? {} : { enough: this.options.enough }),
    };
  }

  async run(context: ActionContext): Promise<ActionResult> {
    const plan = this.planFor(context.level);
    if (!plan) {
      return {
        freedBytes: 0,
        estimated: true,
        summary: `nothing to purge at level ${context.level}`,
        details: { entries: 0 },
      };
    }
    if (context.dryRun) {
      const preview = this.registry.preview(plan);
      return {
        freedBytes: preview.bytes,
        estimated: true,
        outcome: this.outcome(preview.bytes),
        summary: `would ${describePlan(plan)}: ~${preview.entries} entries, ~${formatBytes(preview.bytes)}${preview.bytesComplete ? '' : ' or more'} from ${preview.caches.length} cache(s)`,
        details: { entries: preview.entries, plan, caches: preview.caches },
      };
    }

    const gc = this.options.measure ? obtainGc() : undefined;
    if (gc && !gc.available) context.report(new Error(gc.reason), 'cache-purge cannot measure, estimating');
    const measuring = gc?.available ? gc.gc : undefined;
    // Collect first so that garbage made before the purge is not counted as freed by it.
    if (measuring) measuring();
    const before = measuring ? heapBytes() : 0;
    const summary = await this.registry.purge(plan, {
      signal: context.signal,
      flushTimeout: this.options.flushTimeout,
      scheduler: context.scheduler,
    });
    let measured: number | undefined;
    if (measuring) {
      // Two collections: the first leaves array-buffer backing stores to the concurrent sweeper.
      measuring();
      measuring();
      measured = Math.max(0, before - heapBytes());
    }
    for (const cache of summary.caches) if (cache.error) context.report(cache.error);
    const freed = measured ?? summary.bytes;
    return {
      freedBytes: freed,
      estimated: measured === undefined,
      outcome: this.outcome(freed),
      summary: summarize(plan, summary, measured),
      details: {
        entries: summary.entries,
        plan,
        caches: summary.caches.map(({ error, ...report }) =>
          error ? { ...report, error: error.message } : report,
        ),
        bytesComplete: summary.bytesComplete,
        kept: summary.kept,
        ...(measured === undefined ? {} : { measuredBytes: measured, estimatedBytes: summary.bytes }),
      },
    };
  }

  private outcome(freed: number): 'stop' | 'continue' {
    return this.options.enough !== undefined && freed >= this.options.enough ? 'stop' : 'continue';
  }
}

function heapBytes(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.external;
}

function describePlan(plan: PurgePlan): string {
  const what = plan.fraction >= 1 ? 'clear' : `trim ${Math.round(plan.fraction * 100)}% of`;
  const tags = plan.tags?.length ? ` tagged ${plan.tags.join('|')}` : '';
  return `${what} caches up to priority ${plan.upTo}${tags}`;
}

function summarize(plan: PurgePlan, summary: PurgeSummary, measured: number | undefined): string {
  const purged = summary.caches.filter((cache) => !cache.skipped).length;
  const freed =
    measured === undefined
      ? `~${formatBytes(summary.bytes)}${summary.bytesComplete ? '' : ' or more'}`
      : `${formatBytes(measured)} (measured)`;
  const kept = summary.kept > 0 ? `, kept ${summary.kept} dirty entries` : '';
  return `${describePlan(plan)}: ${summary.entries} entries, ${freed} from ${purged} cache(s)${kept}`;
}
