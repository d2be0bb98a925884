import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  MemshedError,
  type PressureNode,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import { parseKeyedFile, tryLocateCgroup } from '@memshed/cgroupfs';
import type { Subscription } from 'rxjs';
import { interval } from '@memshed/core/rx';
import { parseMemoryStat, parseVmstat, type CountersResult, type ReclaimCounters } from './reclaim-counters';
import type { VmstatSourceOptions } from './vmstat-source-options';

interface Files {
  readonly counters: string;
  readonly parse: (text: string) => CountersResult;
  /** memory.events for a v2 group (its OOM kills); undefined for /proc/vmstat (oom_kill is in it). */
  readonly events: string | undefined;
  readonly scope: string;
}

/**
 * The `vmstat` source: the kernel's own reclaim counters, read every `interval`, their deltas fed
 * to `account(scanned, reclaimed)` so that the kernel's 512-page window and 60/95 thresholds apply
 * in user space — vmpressure for cgroup v2 and any kernel with /proc/vmstat.
 */
export class VmstatSource implements PressureSource {
  readonly id = 'vmstat';
  private previous: ReclaimCounters | undefined;
  private previousOomKills: number | undefined;
  private timer: Subscription | undefined;
  private node: PressureNode | undefined;
  private sink: PressureSink | undefined;

  constructor(private readonly options: VmstatSourceOptions) {}

  availability(): SourceAvailability {
    const files = this.files();
    if ('reason' in files) return { available: false, reason: files.reason, hint: files.hint };
    const read = this.read(files);
    if (!read.ok) return { available: false, reason: read.error, hint: 'use the cgroup-v1 or psi source' };
    const detail = `${files.counters} every ${this.options.interval} ms`;
    if (files.events === undefined) {
      return {
        available: true,
        detail: `host-wide: ${detail}; reclaim of the whole machine, not of this container (cgroup v2: set \`cgroup: self\`)`,
        scope: 'host',
      };
    }
    return { available: true, detail, scope: 'cgroup' };
  }

  start(sink: PressureSink): void {
    const files = this.files();
    if ('reason' in files) throw new MemshedError('unavailable', files.reason, { fix: files.hint });
    const first = this.read(files);
    if (!first.ok)
      throw new MemshedError('unavailable', first.error, { fix: 'use the cgroup-v1 or psi source' });
    this.sink = sink;
    this.node = sink.node(files.scope);
    this.previous = first.value;
    this.previousOomKills = this.oomKills(files, first.value);
    this.timer = interval(this.options.interval, sink.scheduler).subscribe(() => this.sample(files));
  }

  stop(): void {
    const timer = this.timer;
    this.timer = undefined;
    timer?.unsubscribe();
    this.node = undefined;
    this.sink = undefined;
  }

  /** One interval: read once, feed the deltas, report OOM kills. */
  private sample(files: Files): void {
    const read = this.read(files);
    if (!read.ok) {
      this.sink?.error(new MemshedError('source-failed', `vmstat: ${files.counters}: ${read.error}`));
      return;
    }
    const current = read.value;
    const previous = this.previous!;
    this.previous = current;
    const scanned = current.scanned - previous.scanned;
    const reclaimed = current.reclaimed - previous.reclaimed;
    // A counter that went down was reset (a re-created group): take the new values as the baseline.
    if (scanned > 0 && reclaimed >= 0) this.node?.account(scanned, reclaimed);
    const kills = this.oomKills(files, current);
    if (
      this.options.oomKill &&
      kills !== undefined &&
      this.previousOomKills !== undefined &&
      kills > this.previousOomKills
    ) {
      this.sink?.logger.warn(`vmstat: ${kills - this.previousOomKills} OOM kill(s) in ${files.scope}`);
      this.node?.signal('critical');
    }
    this.previousOomKills = kills;
  }

  private oomKills(files: Files, counters: ReclaimCounters): number | undefined {
    if (!files.events) return counters.oomKills;
    try {
      // undefined, not 0, where the kernel writes no oom_kill line: unknown is not "none".
      return parseKeyedFile(readFileSync(files.events, 'utf8')).oom_kill;
    } catch {
      return undefined;
    }
  }

  private read(files: Files): CountersResult {
    let text: string;
    try {
      text = readFileSync(files.counters, 'utf8');
    } catch (error) {
      return {
        ok: false,
        error: `cannot read ${files.counters} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      };
    }
    return files.parse(text);
  }

  private files(): Files | { reason: string; hint: string } {
    const root = this.options.root;
    if (this.options.cgroup === undefined) {
      return { counters: path.join(root, 'proc/vmstat'), parse: parseVmstat, events: undefined, scope: '/' };
    }
    const group = tryLocateCgroup('v2', this.options.cgroup, { root });
    if (!group) {
      return {
        reason: 'no cgroup v2 hierarchy is mounted (per-group pgscan/pgsteal live in cgroup v2 memory.stat)',
        hint: 'omit `cgroup` to read /proc/vmstat, or use the cgroup-v1 source on cgroup v1',
      };
    }
    if (!existsSync(group.directory)) {
      return {
        reason: `cgroup ${group.path} does not exist (no ${group.directory})`,
        hint: "create it, or fix the `cgroup` option ('self', or a path below the cgroup v2 mount)",
      };
    }
    return {
      counters: path.join(group.directory, 'memory.stat'),
      parse: parseMemoryStat,
      events: path.join(group.directory, 'memory.events'),
      scope: group.path,
    };
  }
}
