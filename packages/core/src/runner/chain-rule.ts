import type { ActionRunRecord, ChainRunRecord } from './action-run-record';
import type { RunRequest } from './action-step';

/**
 * What a step's record means for its chain, as oomd reads its plugins' return values: a
 * cancelled step (or one skipped because the request was cancelled or the runner disposed) ends
 * the chain as `cancelled`; an `ok` step with outcome `stop` ends it as `stopped` (enough was
 * freed); anything else (ok and continue, failed, timed out, skipped while running or cooling
 * down) lets the chain go on: one bad action does not starve the others.
 */
export function chainEnding(record: ActionRunRecord): 'cancelled' | 'stopped' | undefined {
  if (record.status === 'cancelled' || record.skipped === 'cancelled' || record.skipped === 'disposed') {
    return 'cancelled';
  }
  if (record.status === 'ok' && record.outcome === 'stop') return 'stopped';
  return undefined;
}

/** The record of a chain run from its parts. */
export function chainRecord(
  chain: number,
  request: RunRequest,
  run: {
    readonly dryRun: boolean;
    readonly startedAt: number;
    readonly finishedAt: number;
    readonly steps: readonly ActionRunRecord[];
    readonly ended: ChainRunRecord['ended'];
    readonly stoppedBy?: string;
  },
): ChainRunRecord {
  return {
    chain,
    policy: request.policy,
    level: request.level,
    trigger: request.trigger,
    dryRun: run.dryRun,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    steps: run.steps,
    ended: run.ended,
    ...(run.stoppedBy === undefined ? {} : { stoppedBy: run.stoppedBy }),
  };
}
