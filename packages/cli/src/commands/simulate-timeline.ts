import type { PressureState } from '@memshed/core';
import type { SampleGroup, SimulationRecord } from '@memshed/source-vmscan-sim';

/** The default pace on a terminal, in simulated seconds per second: a 10-minute scenario plays in 30 seconds. */
export const TERMINAL_SPEED = 20;

const MIB = 1024 * 1024;
const BAR_WIDTH = 28;

const STATE_STYLE: Readonly<Record<PressureState, string>> = {
  normal: '\x1b[32m',
  low: '\x1b[36m',
  medium: '\x1b[33m',
  critical: '\x1b[1;31m',
};
const RESET = '\x1b[0m';
const DIM = '\x1b[2m';

/** `m:ss` for model milliseconds. */
export function clock(ms: number): string {
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}

function mib(bytes: number): string {
  return String(Math.round(bytes / MIB));
}

/** The interval between two timeline rows: about 40 rows per run, on a round number of seconds. */
export function reportInterval(duration: number): number {
  for (const step of [1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000]) {
    if (duration / step <= 45) return step;
  }
  return 600_000;
}

/**
 * Turns simulation records into the compact terminal timeline of `memshed simulate`: one row per
 * report interval (usage against the limit as a bar, pressure, state) and one line per state
 * change, action, OOM kill and phase, as they happen. Simultaneous purges by one policy are merged
 * into one line, which says why the policy ran (its first run in the episode, a new signal after
 * its previous run, or its cooldown); a policy that backs off gets a line of its own.
 */
export class SimulateTimeline {
  private focus = '';
  private interval = 15_000;
  private pending: { t: number; by: string; action: string; parts: string[]; freed: number } | undefined;
  /** Why each policy's latest run started, as the action lines show it. */
  private readonly reasons = new Map<string, string>();

  constructor(
    private readonly write: (line: string) => void,
    /** Colour the states (on a terminal). */
    private readonly colour: boolean,
  ) {}

  /** Handles one record. */
  add(record: SimulationRecord): void {
    if (record.type !== 'action') this.flush();
    switch (record.type) {
      case 'start':
        this.focus = record.focus;
        this.interval = reportInterval(record.duration);
        this.header(record);
        break;
      case 'sample':
        if (record.t % this.interval === 0) this.row(record);
        break;
      case 'state':
        this.event(record.t, '●', `state ${this.paint(record.state, record.state)}`);
        break;
      case 'action': {
        const by = record.by ?? '';
        const part = `${record.target} −${mib(record.freedBytes)} MiB`;
        if (
          this.pending &&
          this.pending.t === record.t &&
          this.pending.by === by &&
          this.pending.action === record.action
        ) {
          this.pending.parts.push(part);
          this.pending.freed += record.freedBytes;
        } else {
          this.flush();
          this.pending = { t: record.t, by, action: record.action, parts: [part], freed: record.freedBytes };
        }
        break;
      }
      case 'fired':
        this.reasons.set(
          record.policy,
          record.reason === 'episode'
            ? 'first run'
            : `run ${record.run}, ${{ signal: 'new signal', cooldown: 'cooldown', escalated: 'escalated' }[record.reason]}`,
        );
        break;
      case 'backed-off':
        this.event(
          record.t,
          '‖',
          // The reason's head ("nothing freed"); the steps' details are in the JSON records.
          this.dim(`${record.policy}: backs off ${record.delay} ms (${record.why.split(': ')[0]})`),
        );
        break;
      case 'oom':
        this.event(
          record.t,
          '✖',
          this.paint(
            'critical',
            record.workload
              ? `OOM kill: ${record.workload} in ${record.group} (${mib(record.freedBytes)} MiB freed)`
              : `OOM in ${record.group}: nothing to kill, the allocation failed`,
          ),
        );
        break;
      case 'restart':
        this.event(record.t, '↻', `${record.workload} restarted`);
        break;
      case 'phase':
        if (record.label !== undefined) this.event(record.t, '·', this.dim(`phase: ${record.label}`));
        break;
      case 'end':
        this.summary(record);
        break;
    }
  }

  /** Writes a pending merged action line. */
  flush(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    const symbol = pending.action === 'cache-purge' ? '▼' : '■';
    const reason = pending.by ? this.reasons.get(pending.by) : undefined;
    const who = pending.by ? `${pending.by}${reason ? ` (${reason})` : ''}: ` : '';
    this.event(pending.t, symbol, `${who}${pending.action} ${pending.parts.join(', ')}`);
  }

  private header(record: Extract<SimulationRecord, { type: 'start' }>): void {
    const limit = record.groups.find((g) => g.path === record.focus)?.limit;
    this.write(`memshed simulate: ${record.scenario} (seed ${record.seed}): ${record.description}`);
    const policies = record.policies.length
      ? record.policies.map((p) => `${p.name} (${p.level})`).join(', ')
      : 'none';
    this.write(
      this.dim(
        `group ${record.focus}${limit === undefined ? '' : `, limit ${mib(limit)} MiB`}, ${clock(record.duration)} simulated, policies: ${policies}`,
      ),
    );
    this.write('');
    this.write(
      this.dim(`  time  ${'anon █  page cache ▒'.padEnd(BAR_WIDTH + 2)}  MiB used/limit  pressure  state`),
    );
  }

  private row(record: Extract<SimulationRecord, { type: 'sample' }>): void {
    const group = record.groups.find((g) => g.path === this.focus);
    if (!group) return;
    const pressure = group.pressure === undefined ? '-' : `${group.pressure}%`;
    const used = `${mib(group.usage)}/${group.limit === undefined ? '-' : mib(group.limit)}`;
    this.write(
      `${clock(record.t).padStart(6)}  ▕${bar(group)}▏  ${used.padStart(14)}  ${pressure.padStart(8)}  ${this.paint(record.state, record.state)}`,
    );
  }

  private event(t: number, symbol: string, text: string): void {
    this.write(`${clock(t).padStart(6)}  ${symbol} ${text}`);
  }

  private summary(record: Extract<SimulationRecord, { type: 'end' }>): void {
    const { low, medium, critical } = record.events;
    this.write('');
    this.write(
      `done: ${clock(record.t)} simulated; ${low + medium + critical} pressure events (${low} low, ${medium} medium, ${critical} critical); ` +
        `${record.actions} action${record.actions === 1 ? '' : 's'}; ${record.oomKills} OOM kill${record.oomKills === 1 ? '' : 's'}; ` +
        `peak ${mib(record.peakUsage)} MiB; final state ${this.paint(record.state, record.state)}`,
    );
  }

  private paint(state: PressureState, text: string): string {
    return this.colour ? `${STATE_STYLE[state]}${text}${RESET}` : text;
  }

  private dim(text: string): string {
    return this.colour ? `${DIM}${text}${RESET}` : text;
  }
}

function bar(group: SampleGroup): string {
  const scale = group.limit ?? Math.max(group.usage, 1);
  const anon = Math.round((group.anon / scale) * BAR_WIDTH);
  const file = Math.min(BAR_WIDTH - anon, Math.round(((group.anon + group.file) / scale) * BAR_WIDTH) - anon);
  return (
    '█'.repeat(Math.min(anon, BAR_WIDTH)) +
    '▒'.repeat(Math.max(0, file)) +
    ' '.repeat(Math.max(0, BAR_WIDTH - anon - Math.max(0, file)))
  );
}
