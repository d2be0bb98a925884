import { execFile } from 'node:child_process';
import { watch } from 'node:fs';
import * as os from 'node:os';
import {
  LevelGate,
  MemshedError,
  formatBytes,
  type PressureNode,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import { nativeAvailability, watchEventfd } from '@memshed/native';
import type { Subscription } from 'rxjs';
import { interval } from '@memshed/core/rx';
import {
  CgroupV1Reader,
  CgroupV2Reader,
  locateContainer,
  type ContainerReader,
  type ContainerSample,
  type MemoryEvents,
  type ProcessMemory,
} from './container-reader';
import {
  DarwinPressureReader,
  MeminfoReader,
  WindowsMemoryReader,
  type HostMemory,
  type HostMemoryReader,
  type OsMemory,
  type SysctlRunner,
} from './host-reader';
import type { ContainerOptions, HostOptions, SystemSourceOptions } from './system-source-options';
import {
  formatThreshold,
  levelForUsage,
  lowestThreshold,
  resolveThresholds,
  type ResolvedThresholds,
} from './threshold';
import { armUsageThresholds, type EventfdFactory, type UsageThresholds } from './usage-thresholds';

/** Everything the source takes from the machine; replaced in tests. */
export interface SystemSourceEnvironment {
  /** `process.platform`. */
  readonly platform: NodeJS.Platform;
  /** This process's constraint and RSS (the fallback when no cgroup is readable). */
  readonly process: ProcessMemory;
  /** `os.totalmem()` / `os.freemem()` (Windows). */
  readonly os: OsMemory;
  /** Runs `sysctl -n` (macOS). */
  readonly sysctl: SysctlRunner;
  /** The native eventfd watcher, or why it cannot be had. */
  eventfd():
    | { readonly available: true; readonly watch: EventfdFactory }
    | { readonly available: false; readonly reason: string };
  /** Watches a file for modification (inotify: cgroup v2 memory.events); `onChange` per change. Unref'd. */
  watchFile(file: string, onChange: () => void, onError: (error: unknown) => void): { close(): void };
}

/** The real machine. */
export const runtimeEnvironment: SystemSourceEnvironment = {
  platform: process.platform,
  process: {
    constrainedMemory: () =>
      (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.(),
    rss: () => process.memoryUsage.rss(),
  },
  os: { totalmem: () => os.totalmem(), freemem: () => os.freemem() },
  sysctl: (name) =>
    new Promise((resolve, reject) =>
      execFile('sysctl', ['-n', name], { timeout: 5000 }, (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      ),
    ),
  eventfd() {
    const availability = nativeAvailability();
    return availability.available
      ? { available: true, watch: watchEventfd }
      : { available: false, reason: availability.reason };
  },
  watchFile(file, onChange, onError) {
    const watcher = watch(file, { persistent: false }, () => onChange());
    watcher.on('error', onError);
    return watcher;
  },
};

function isGone(error: unknown): boolean {
  return (
    (error as NodeJS.ErrnoException)?.code === 'ENOENT' || (error as NodeJS.ErrnoException)?.code === 'ENODEV'
  );
}

/** The part of the source that watches the container's headroom. */
class ContainerWatch {
  /** `eventfd` while cgroup v1 thresholds are armed, `poll` otherwise. */
  mode: 'eventfd' | 'poll' = 'poll';
  private thresholds: UsageThresholds | undefined;
  private armedLimit = NaN;
  private timer: Subscription | undefined;
  private eventsWatcher: { close(): void } | undefined;
  private lastEvents: MemoryEvents | undefined;
  private readonly gate: LevelGate;
  private stopped = false;

  constructor(
    private readonly reader: ContainerReader,
    private readonly options: ContainerOptions,
    private readonly node: PressureNode,
    private readonly sink: PressureSink,
    private readonly environment: SystemSourceEnvironment,
    repeat: number,
  ) {
    this.gate = new LevelGate(node, sink.scheduler, repeat);
  }

  start(): void {
    const sample = this.reader.sample();
    if (this.reader instanceof CgroupV1Reader && this.options.notify === 'auto') {
      const eventfd = this.environment.eventfd();
      if (eventfd.available) {
        try {
          this.arm(this.reader, eventfd.watch, sample.limit);
          this.mode = 'eventfd';
        } catch (error) {
          this.sink.logger.warn(
            `source 'system': cgroup v1 usage thresholds unavailable (${(error as Error).message}); polling every ${this.options.interval} ms`,
          );
        }
      } else {
        this.sink.logger.warn(
          `source 'system': native addon unavailable (${eventfd.reason}); polling ${this.reader.name} every ${this.options.interval} ms`,
        );
      }
    }
    if (this.reader instanceof CgroupV2Reader) this.watchEvents(this.reader);
    this.judge(sample);
    if (this.mode === 'poll')
      this.timer = interval(this.options.interval, this.sink.scheduler).subscribe(() => this.evaluate());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.thresholds?.close();
    this.thresholds = undefined;
    this.eventsWatcher?.close();
    this.eventsWatcher = undefined;
  }

  /** Arms the kernel's usage thresholds at the bytes the configured thresholds mean under `limit`. */
  private arm(reader: CgroupV1Reader, watch: EventfdFactory, limit: number): void {
    this.thresholds?.close();
    this.thresholds = undefined;
    const resolved = resolveThresholds(this.options, limit);
    this.thresholds = armUsageThresholds(
      { usage: reader.usageFile, eventControl: reader.eventControlFile },
      [resolved.low, resolved.medium, resolved.critical],
      () => this.evaluate(),
      watch,
    );
    this.armedLimit = limit;
  }

  /** Reads the container and judges it; reports failures, and stops when the cgroup is gone. */
  private evaluate(): void {
    if (this.stopped) return;
    let sample: ContainerSample;
    try {
      sample = this.reader.sample();
    } catch (error) {
      if (isGone(error)) {
        this.sink.error(error, `Source 'system': cgroup ${this.reader.name} is gone; stopped watching it`);
        this.stop();
      } else {
        this.sink.error(error, `Source 'system' could not read cgroup ${this.reader.name}`);
      }
      return;
    }
    if (
      this.mode === 'eventfd' &&
      sample.limit !== this.armedLimit &&
      this.reader instanceof CgroupV1Reader
    ) {
      // The limit moved (docker update, a parent's limit): thresholds in bytes move with it.
      try {
        const eventfd = this.environment.eventfd();
        if (eventfd.available) this.arm(this.reader, eventfd.watch, sample.limit);
      } catch (error) {
        this.sink.error(error, `Source 'system' could not re-arm usage thresholds; polling`);
        this.mode = 'poll';
        this.timer ??= interval(this.options.interval, this.sink.scheduler).subscribe(() => this.evaluate());
      }
    }
    this.judge(sample);
  }

  private judge(sample: ContainerSample): void {
    const resolved = resolveThresholds(this.options, sample.limit);
    const measured = this.options.measure === 'usage' ? sample.usage : sample.workingSet;
    this.gate.offer(levelForUsage(measured, resolved));
    if (this.mode === 'eventfd') this.follow(sample, resolved);
  }

  /**
   * With eventfd thresholds, the kernel says when raw usage crosses one, not how the working set
   * moves above it or that a level still holds: poll while usage is at or above the lowest
   * threshold, and go back to waiting for the kernel once it is below. Thresholds already reached
   * stop waking the process meanwhile (the poll sees them); those above still do, at once.
   */
  private follow(sample: ContainerSample, resolved: ResolvedThresholds): void {
    const above = sample.usage >= lowestThreshold(resolved);
    if (above && !this.timer) {
      this.timer = interval(this.options.interval, this.sink.scheduler).subscribe(() => this.evaluate());
    } else if (!above && this.timer) {
      this.timer.unsubscribe();
      this.timer = undefined;
    }
    this.thresholds?.track(sample.usage);
  }

  /** cgroup v2: memory.events notifications; a new high, max or OOM event is critical at once. */
  private watchEvents(reader: CgroupV2Reader): void {
    try {
      this.lastEvents = reader.events();
      this.eventsWatcher = this.environment.watchFile(
        reader.eventsFile,
        () => this.onEvents(reader),
        (error) => this.sink.error(error, `Source 'system' lost the watch on ${reader.eventsFile}`),
      );
    } catch (error) {
      this.sink.logger.warn(
        `source 'system': cannot watch ${reader.eventsFile} (${(error as Error).message}); usage is still polled`,
      );
    }
  }

  private onEvents(reader: CgroupV2Reader): void {
    if (this.stopped) return;
    let events: MemoryEvents;
    try {
      events = reader.events();
    } catch (error) {
      if (!isGone(error)) this.sink.error(error, `Source 'system' could not read ${reader.eventsFile}`);
      return;
    }
    const last = this.lastEvents;
    this.lastEvents = events;
    if (
      last &&
      (events.high > last.high ||
        events.max > last.max ||
        events.oom > last.oom ||
        events.oom_kill > last.oom_kill)
    ) {
      this.node.signal('critical');
    }
    this.evaluate();
  }
}

/** The part of the source that watches the machine's memory. */
class HostWatch {
  private timer: Subscription | undefined;
  private pending = false;
  private failing = false;
  private stopped = false;
  private readonly gate: LevelGate;

  constructor(
    private readonly reader: HostMemoryReader,
    private readonly options: HostOptions,
    node: PressureNode,
    private readonly sink: PressureSink,
    repeat: number,
  ) {
    this.gate = new LevelGate(node, sink.scheduler, repeat);
  }

  start(): void {
    this.read();
    this.timer = interval(this.options.interval, this.sink.scheduler).subscribe(() => this.read());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.unsubscribe();
    this.timer = undefined;
  }

  private read(): void {
    // A slow reader (sysctl) is never run twice at once.
    if (this.pending) return;
    let result: HostMemory | Promise<HostMemory>;
    try {
      result = this.reader.read();
    } catch (error) {
      this.fail(error);
      return;
    }
    if (result instanceof Promise) {
      this.pending = true;
      result.then(
        (memory) => {
          this.pending = false;
          if (!this.stopped) this.judge(memory);
        },
        (error: unknown) => {
          this.pending = false;
          if (!this.stopped) this.fail(error);
        },
      );
    } else {
      this.judge(result);
    }
  }

  private judge(memory: HostMemory): void {
    this.failing = false;
    if (memory.kind === 'level') {
      this.gate.offer(memory.level === 'normal' ? undefined : memory.level);
    } else {
      const used = memory.total - memory.available;
      this.gate.offer(levelForUsage(used, resolveThresholds(this.options, memory.total)));
    }
  }

  /** Reports the first failure of a run of failures, not one per poll. */
  private fail(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.sink.error(error, `Source 'system' could not read ${this.reader.description}`);
  }
}

/** What the source would watch here, and why not when it would not. */
interface Plan {
  readonly container?: { readonly reader: ContainerReader; readonly sample: ContainerSample };
  readonly host?: HostMemoryReader;
  /** Why each part is off, for doctor. */
  readonly notes: readonly string[];
}

/**
 * Headroom against the real limit, on every platform:
 *
 * - container: usage (or working set) against the container's own limit, never the host's: cgroup
 *   v1 (event-driven through `memory.usage_in_bytes` eventfd thresholds, polling while above them),
 *   cgroup v2 (memory.current against memory.max / memory.high, polled; memory.events high, max
 *   and OOM notifications are critical at once), or `process.constrainedMemory()` against RSS.
 *   Defaults in the spirit of Chromium: medium at 75% of the limit, critical at 85%.
 * - host: MemAvailable on Linux with Chromium's thresholds (moderate at 25% available, critical at
 *   15%), Windows' memory load, macOS `kern.memorystatus_vm_pressure_level` (warn: medium,
 *   critical: critical).
 *
 * Levels enter the engine through `signal()` at `<scope>/container` and `<scope>/host`: a level
 * is signalled when it is reached and again every `repeat` while it holds.
 */
export class SystemSource implements PressureSource {
  readonly id = 'system';
  private container: ContainerWatch | undefined;
  private host: HostWatch | undefined;

  constructor(
    private readonly options: SystemSourceOptions,
    private readonly environment: SystemSourceEnvironment = runtimeEnvironment,
  ) {}

  availability(): SourceAvailability {
    const plan = this.plan();
    if (!plan.container && !plan.host) {
      return {
        available: false,
        reason: plan.notes.join('; ') || 'nothing to watch',
        hint:
          this.options.container === false || this.options.host === false
            ? 'turn the other part on (container or host)'
            : 'on Linux, mount /proc and the cgroup filesystem; elsewhere use Node >= 19.6 for process.constrainedMemory()',
      };
    }
    const parts: string[] = [];
    if (plan.container) parts.push(this.describeContainer(plan.container.reader, plan.container.sample));
    if (plan.host)
      parts.push(`host ${plan.host.description}${plan.host.tested ? '' : ' (untested platform code)'}`);
    return { available: true, detail: [...parts, ...plan.notes].join('; ') };
  }

  start(sink: PressureSink): void {
    if (this.container || this.host) return;
    const plan = this.plan();
    if (!plan.container && !plan.host) {
      throw new MemshedError(
        'unavailable',
        `Source 'system' has nothing to watch: ${plan.notes.join('; ')}`,
        {
          fix: 'see memshed doctor',
        },
      );
    }
    const scope = this.options.scope === '/' ? '' : this.options.scope;
    if (plan.container && this.options.container !== false) {
      this.container = new ContainerWatch(
        plan.container.reader,
        this.options.container,
        sink.node(`${scope}/container`),
        sink,
        this.environment,
        this.options.repeat,
      );
      this.container.start();
    }
    if (plan.host && this.options.host !== false) {
      this.host = new HostWatch(
        plan.host,
        this.options.host,
        sink.node(`${scope}/host`),
        sink,
        this.options.repeat,
      );
      this.host.start();
    }
  }

  stop(): void {
    this.container?.stop();
    this.container = undefined;
    this.host?.stop();
    this.host = undefined;
  }

  /** How the container is watched once started: `eventfd`, `poll`, or undefined when it is not. */
  get containerMode(): 'eventfd' | 'poll' | undefined {
    return this.container?.mode;
  }

  private plan(): Plan {
    const notes: string[] = [];
    let container: Plan['container'];
    const containerOptions = this.options.container;
    if (containerOptions !== false) {
      const reader = locateContainer({
        cgroup: containerOptions.cgroup,
        root: this.options.root,
        process: this.environment.process,
      });
      if (!reader) {
        notes.push(
          containerOptions.cgroup === 'self'
            ? 'no container limit found (no readable memory cgroup, no process.constrainedMemory())'
            : `cgroup ${containerOptions.cgroup} not found in a v1 memory or v2 hierarchy`,
        );
      } else {
        const sample = reader.sample();
        const resolved = resolveThresholds(containerOptions, sample.limit);
        if (Number.isFinite(lowestThreshold(resolved))) container = { reader, sample };
        else notes.push(`${reader.kind} ${reader.name} has no memory limit: container headroom not watched`);
      }
    }
    let host: HostMemoryReader | undefined;
    if (this.options.host !== false) {
      host = this.hostReader();
      if (!host) notes.push(`no host memory reader for platform ${this.environment.platform}`);
    }
    return { container, host, notes };
  }

  private hostReader(): HostMemoryReader | undefined {
    switch (this.environment.platform) {
      case 'linux':
      case 'android': {
        const reader = new MeminfoReader(this.options.root);
        try {
          reader.read();
          return reader;
        } catch {
          return undefined;
        }
      }
      case 'win32':
        return new WindowsMemoryReader(this.environment.os);
      case 'darwin':
        return new DarwinPressureReader(this.environment.sysctl);
      default:
        return undefined;
    }
  }

  private describeContainer(reader: ContainerReader, sample: ContainerSample): string {
    const options = this.options.container as ContainerOptions;
    const how =
      reader instanceof CgroupV1Reader
        ? options.notify === 'auto'
          ? 'usage thresholds by eventfd'
          : `polled every ${options.interval} ms`
        : reader instanceof CgroupV2Reader
          ? `polled every ${options.interval} ms, memory.events watched`
          : `RSS polled every ${options.interval} ms`;
    return (
      `${reader.kind} ${reader.name}: ${formatBytes(sample.usage)} of ${formatBytes(sample.limit)}, ` +
      `medium at ${formatThreshold(options.medium)}, critical at ${formatThreshold(options.critical)} (${how})`
    );
  }
}
