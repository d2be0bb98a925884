import type { ActionResult } from '../plugin';
import type { ActionRunRecord, ActionSkipReason } from './action-run-record';

/** The fields of a record that come from an action's result: only the well-formed ones. */
export function resultFields(
  result: ActionResult | undefined,
): Partial<Pick<ActionRunRecord, 'freedBytes' | 'estimated' | 'summary' | 'details'>> {
  if (!result) return {};
  const fields: { -readonly [K in 'freedBytes' | 'estimated' | 'summary' | 'details']?: ActionRunRecord[K] } =
    {};
  if (isCount(result.freedBytes)) fields.freedBytes = result.freedBytes;
  if (typeof result.estimated === 'boolean') fields.estimated = result.estimated;
  if (typeof result.summary === 'string') fields.summary = result.summary;
  if (typeof result.details === 'object' && result.details !== null) fields.details = result.details;
  return fields;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** ` (policy 'p')`, or nothing outside a policy: the tail of a log line. */
export function policyText(policy: string | undefined): string {
  return policy === undefined ? '' : ` (policy '${policy}')`;
}

/** Why a step was skipped, for the log. */
export function skipText(
  reason: ActionSkipReason,
  state: { readonly since: number; readonly coolUntil: number } | undefined,
): string {
  switch (reason) {
    case 'running':
      return `its previous run (started at ${state?.since}) has not settled`;
    case 'cooldown':
      return `cooling down until ${state?.coolUntil}`;
    case 'cancelled':
      return 'the request was cancelled before it started';
    case 'disposed':
      return 'the runner is disposed';
  }
}

/** The log line of a finished step: status, time taken, what was freed, the action's summary. */
export function describeRecord(record: ActionRunRecord): string {
  const took = `${record.finishedAt - record.startedAt} ms`;
  switch (record.status) {
    case 'ok': {
      const parts = [record.dryRun ? 'dry run' : 'done', took];
      if (record.freedBytes !== undefined)
        parts.push(`freed ${record.estimated ? '~' : ''}${record.freedBytes} bytes`);
      if (record.outcome === 'stop') parts.push('chain stops');
      return `${parts.join(', ')}${record.summary ? `: ${record.summary}` : ''}`;
    }
    case 'failed':
      return `failed after ${took}`;
    case 'timeout':
      return `timed out after ${took}`;
    case 'cancelled':
      return `cancelled after ${took}`;
    case 'skipped':
      return `skipped (${record.skipped})`;
  }
}

/** An error's message, or the thrown value as text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
