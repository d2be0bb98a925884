/** Above this a limit means "none": v1 writes PAGE_COUNTER_MAX pages (~2^63 bytes), Node says 2^64. */
export const UNLIMITED = 2 ** 60;

/** Parses a limit file: a number of bytes, `max` (v2) or a huge v1 value; Infinity for none. */
export function parseLimit(text: string): number {
  const trimmed = text.trim();
  if (trimmed === 'max' || trimmed === '') return Infinity;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value >= UNLIMITED) return Infinity;
  return value;
}

/**
 * Parses a flat keyed file (`memory.stat`, `memory.events`, v1 `memory.oom_control`): `key value`
 * lines into numbers.
 */
export function parseKeyedFile(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const value = Number(line.slice(space + 1).trim());
    if (Number.isFinite(value)) out[line.slice(0, space)] = value;
  }
  return out;
}

/** Counters of cgroup v2 memory.events. */
export interface MemoryEvents {
  /** Times the group was reclaimed below memory.low (not pressure on it). */
  readonly low: number;
  /** Times usage went over memory.high: tasks throttled into direct reclaim. */
  readonly high: number;
  /** Times usage was about to go over memory.max: reclaim at the hard limit. */
  readonly max: number;
  /** Times the group hit OOM. */
  readonly oom: number;
  /** Processes of the group killed by the OOM killer. */
  readonly oom_kill: number;
}

/** Parses cgroup v2 memory.events; a counter the kernel does not write reads 0. */
export function parseMemoryEvents(text: string): MemoryEvents {
  const fields = parseKeyedFile(text);
  return {
    low: fields.low ?? 0,
    high: fields.high ?? 0,
    max: fields.max ?? 0,
    oom: fields.oom ?? 0,
    oom_kill: fields.oom_kill ?? 0,
  };
}

/** cgroup v1 memory.oom_control; a field the kernel does not write is undefined. */
export interface OomControl {
  /** 1 when the OOM killer is disabled for the group (its tasks wait instead). */
  readonly oomKillDisable: number | undefined;
  /** 1 while the group is under OOM. */
  readonly underOom: number | undefined;
  /** Tasks of the group killed by the OOM killer (kernels since 4.13). */
  readonly oomKill: number | undefined;
}

/** Parses cgroup v1 memory.oom_control. */
export function parseOomControl(text: string): OomControl {
  const fields = parseKeyedFile(text);
  return { oomKillDisable: fields.oom_kill_disable, underOom: fields.under_oom, oomKill: fields.oom_kill };
}
