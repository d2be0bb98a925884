import * as path from 'node:path';
import { CgroupV1Memory, CgroupV2Memory, diagnoseWriteAccess, type MemoryEvents } from '@memshed/cgroupfs';
import {
  LevelGate,
  formatBytes,
  type HeadroomReading,
  type PressureNode,
  type PressureSink,
} from '@memshed/core';
import {
  TimeToLimit,
  headroomReading,
  levelWithPrediction,
  type HeadroomSample,
} from '@memshed/growth-trend';
import { interval } from '@memshed/core/rx';
import type { Subscription } from 'rxjs';
import type { ContainerReader, ContainerSample } from './container-reader';
import type { SystemSourceEnvironment } from './system-environment';
import type { ContainerOptions } from './system-source-options';
import { levelForUsage, lowestThreshold, resolveThresholds, type ResolvedThresholds } from './threshold';
import { armUsageThresholds, type EventfdFactory, type UsageThresholds } from './usage-thresholds';

function isGone(error: unknown): boolean {
  return (
    (error as NodeJS.ErrnoException)?.code === 'ENOENT' || (error as NodeJS.ErrnoException)?.code === 'ENODEV'
  );
}

/**
 * Why cgroup v1 usage thresholds cannot be armed on `reader`'s group, before trying: no native
 * addon, or a cgroup.event_control this process cannot write (a read-only mount is named as such).
 * Undefined when nothing stands in the way.
 */
export function usageThresholdsUnavailable(
  reader: CgroupV1Memory,
  eventfd: ReturnType<SystemSourceEnvironment['eventfd']>,
): string | undefined {
  if (!eventfd.available) return `native addon unavailable: ${eventfd.reason}`;
  const denied = diagnoseWriteAccess(
    path.join(reader.directory, 'cgroup.event_control'),
    'polling (notify: poll says so and silences this)',
  );
  return denied && (denied.readOnlyMount ? denied.reason : `${denied.reason}; ${denied.fix}`);
}

/** The part of the source that watches the container's headroom. */
export class ContainerWatch {
  /** `eventfd` while cgroup v1 thresholds are armed, `poll` otherwise. */
  mode: 'eventfd' | 'poll' = 'poll';
  /** Why usage thresholds were wanted (`notify: auto`, cgroup v1) but it polls instead. */
  fallback: string | undefined;
  private thresholds: UsageThresholds | undefined;
  private armedLimit = NaN;
  private timer: Subscription | undefined;
  private period: number | undefined;
  private eventsWatcher: { close(): void } | undefined;
  private lastEvents: MemoryEvents | undefined;
  private readonly gate: LevelGate;
  private readonly timeToLimit: TimeToLimit | undefined;
  private lastRead: HeadroomSample | undefined;
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
    if (options.timeToLimit) this.timeToLimit = new TimeToLimit(options.timeToLimit);
  }

  /** The growth rate and time to limit for a status line, e.g. `growing 120 MiB/s, limit in 0.8 s`. */
  describeTrend(): string | undefined {
    return this.timeToLimit?.describe();
  }

  /**
   * The container's usage (what `measure` says) against its limit as last read, with the growth
   * rate and time to limit predicted from it; undefined before the first read, after a failed one
   * and once stopped (also when the group went away). With cgroup v1 usage thresholds nothing is
   * read while usage stays below them and below the time-to-limit floor (the kernel says when it
   * crosses one): the reading is then as old as its `time`.
   */
  headroom(): HeadroomReading | undefined {
    if (this.stopped || !this.lastRead) return undefined;
    return headroomReading('container', this.lastRead, this.timeToLimit);
  }

  /** Reads the container once, arms the v1 thresholds or the v2 memory.events watch, judges, polls if it must. */
  start(): void {
    const sample = this.reader.sample();
    if (this.reader instanceof CgroupV1Memory && this.options.notify === 'auto') {
      const eventfd = this.environment.eventfd();
      this.fallback = usageThresholdsUnavailable(this.reader, eventfd);
      if (eventfd.available && this.fallback === undefined) {
        try {
          this.arm(this.reader, eventfd.watch, sample.limit);
          this.mode = 'eventfd';
        } catch (error) {
          this.fallback = (error as Error).message;
        }
      }
      if (this.fallback !== undefined) {
        this.sink.logger.warn(
          `source 'system': cgroup v1 usage thresholds unavailable (${this.fallback}); polling ${this.reader.name} every ${this.options.interval} ms`,
        );
      }
    }
    if (this.reader instanceof CgroupV2Memory) this.watchEvents(this.reader);
    this.judge(sample);
  }

  /** Releases the timer, every eventfd registration and the file watch. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.poll(undefined);
    this.thresholds?.close();
    this.thresholds = undefined;
    this.eventsWatcher?.close();
    this.eventsWatcher = undefined;
  }

  /** Arms the kernel's usage thresholds at the bytes the configured thresholds mean under `limit`. */
  private arm(reader: CgroupV1Memory, watch: EventfdFactory, limit: number): void {
    this.thresholds?.close();
    this.thresholds = undefined;
    const resolved = resolveThresholds(this.options, limit);
    // The time-to-limit floor wakes the process too, to start reading often enough to see growth.
    const floor = this.timeToLimit?.floor(limit) ?? Infinity;
    this.thresholds = armUsageThresholds(
      reader.directory,
      [floor, resolved.low, resolved.medium, resolved.critical],
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
      // What was read before is no longer what the container holds: no reading rather than an old one.
      this.lastRead = undefined;
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
      this.reader instanceof CgroupV1Memory
    ) {
      // The limit moved (docker update, a parent's limit): thresholds in bytes move with it.
      try {
        const eventfd = this.environment.eventfd();
        if (eventfd.available) this.arm(this.reader, eventfd.watch, sample.limit);
      } catch (error) {
        this.sink.error(error, `Source 'system' could not re-arm usage thresholds; polling`);
        this.fallback = (error as Error).message;
        this.mode = 'poll';
      }
    }
    this.judge(sample);
  }

  /**
   * The level is the thresholds' raised by the time to limit's (levelWithPrediction: a predicted
   * critical needs usage past the medium threshold). While the time to limit holds a level, it is signalled again at every reading (the engine coalesces a turn's signals),
   * so that policies hear that the limit is still coming; threshold levels repeat every `repeat`.
   */
  private judge(sample: ContainerSample): void {
    const resolved = resolveThresholds(this.options, sample.limit);
    const measured = this.options.measure === 'usage' ? sample.usage : sample.workingSet;
    const byUsage = levelForUsage(measured, resolved);
    const now = this.sink.scheduler.now();
    this.lastRead = { time: now, used: measured, limit: sample.limit };
    const trend = this.timeToLimit?.observe(now, measured, sample.limit);
    const { level, byPrediction } = levelWithPrediction(trend?.level, byUsage);
    if (byPrediction && level !== undefined) {
      if (!this.gate.offer(level, trend?.reason)) this.node.signal(level, trend?.reason);
    } else {
      this.gate.offer(
        level,
        level && `${this.options.measure} ${formatBytes(measured)} of ${formatBytes(sample.limit)}`,
      );
    }
    this.follow(sample, resolved);
  }

  /**
   * How often to read: every `timeToLimit.interval` from its floor (growth is only seen by reading),
   * else every `interval` when polling. With eventfd thresholds, the kernel says when raw usage
   * crosses one, not how the working set moves above it or that a level still holds: poll while
   * usage is at or above the lowest threshold or the floor, and go back to waiting for the kernel
   * once it is below. Thresholds already reached stop waking the process meanwhile (the poll sees
   * them); those above still do, at once.
   */
  private follow(sample: ContainerSample, resolved: ResolvedThresholds): void {
    const timeToLimit = this.timeToLimit;
    const fast = timeToLimit !== undefined && sample.usage >= timeToLimit.floor(sample.limit);
    const above = sample.usage >= lowestThreshold(resolved);
    this.poll(
      fast
        ? Math.min(timeToLimit.options.interval, this.options.interval)
        : this.mode === 'poll' || above
          ? this.options.interval
          : undefined,
    );
    if (this.mode === 'eventfd') this.thresholds?.track(sample.usage);
  }

  /** Reads every `period` ms from now on, or stops reading when undefined. */
  private poll(period: number | undefined): void {
    if (period === this.period && (period === undefined || this.timer)) return;
    this.timer?.unsubscribe();
    this.timer = undefined;
    this.period = period;
    if (period !== undefined && !this.stopped)
      this.timer = interval(period, this.sink.scheduler).subscribe(() => this.evaluate());
  }

  /** cgroup v2: memory.events notifications; a new high, max or OOM event is critical at once. */
  private watchEvents(reader: CgroupV2Memory): void {
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

  private onEvents(reader: CgroupV2Memory): void {
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
