import { CgroupV1Memory, CgroupV2Memory } from '@memshed/cgroupfs';
import {
  MemshedError,
  formatBytes,
  formatDuration,
  type HeadroomReading,
  type PressureSink,
  type PressureSource,
  type SourceAvailability,
} from '@memshed/core';
import { ContainerWatch, usageThresholdsUnavailable } from './container-watch';
import { locateContainer, type ContainerReader, type ContainerSample } from './container-reader';
import {
  DarwinPressureReader,
  MeminfoReader,
  WindowsMemoryReader,
  type HostMemoryReader,
} from './host-reader';
import { HostWatch } from './host-watch';
import { runtimeEnvironment, type SystemSourceEnvironment } from './system-environment';
import type { ContainerOptions, SystemSourceOptions } from './system-source-options';
import { formatThreshold, lowestThreshold, resolveThresholds } from './threshold';

/** What the source would watch here, and why not when it would not. */
interface Plan {
  readonly container?: { readonly reader: ContainerReader; readonly sample: ContainerSample };
  readonly host?: HostMemoryReader;
  /** Why each part is off, for doctor. */
  readonly notes: readonly string[];
  /** The cgroup the options name (not `self`) and that does not exist: the source cannot run. */
  readonly missingCgroup?: string;
}

/** The fix when the `container.cgroup` option names a group that is not there. */
const MISSING_CGROUP_FIX =
  "create the group, or fix the `container.cgroup` option: 'self' or a path below the memory cgroup mount";

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
    if (plan.missingCgroup !== undefined) {
      // A group named on purpose and not there: watching the host instead would look like
      // success while it watches something else.
      return { available: false, reason: plan.notes.join('; '), hint: MISSING_CGROUP_FIX };
    }
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
    return {
      available: true,
      detail: [...parts, ...plan.notes].join('; '),
      scope: plan.container ? 'cgroup' : 'host',
    };
  }

  start(sink: PressureSink): void {
    if (this.container || this.host) return;
    const plan = this.plan();
    if (plan.missingCgroup !== undefined) {
      throw new MemshedError('unavailable', `Source 'system' is unavailable: ${plan.notes.join('; ')}`, {
        fix: MISSING_CGROUP_FIX,
      });
    }
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

  /**
   * While it runs, the container's growth and time to limit as last read, e.g. `container growing
   * 120 MiB/s, limit in 0.8 s`; undefined when the container part is off or not running.
   */
  detail(): string | undefined {
    const trend = this.container?.describeTrend();
    return trend && `container ${trend}`;
  }

  /**
   * While it runs, the container's headroom (usage as `measure` says against its limit, with the
   * growth and time to limit) and the host's (memory in use against the total; no time to limit),
   * as last read: target `container` and `host`, each present once read (the host's not where the
   * OS says a level rather than bytes: macOS).
   */
  headroom(): readonly HeadroomReading[] {
    const readings: HeadroomReading[] = [];
    const container = this.container?.headroom();
    if (container) readings.push(container);
    const host = this.host?.headroom();
    if (host) readings.push(host);
    return readings;
  }

  /** How the container is watched once started: `eventfd`, `poll`, or undefined when it is not. */
  get containerMode(): 'eventfd' | 'poll' | undefined {
    return this.container?.mode;
  }

  private plan(): Plan {
    const notes: string[] = [];
    let container: Plan['container'];
    let missingCgroup: string | undefined;
    const containerOptions = this.options.container;
    if (containerOptions !== false) {
      const reader = locateContainer({
        cgroup: containerOptions.cgroup,
        root: this.options.root,
        process: this.environment.process,
      });
      if (!reader) {
        if (containerOptions.cgroup !== 'self') missingCgroup = containerOptions.cgroup;
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
    return { container, host, notes, ...(missingCgroup === undefined ? {} : { missingCgroup }) };
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

  /** What a v1 group with `notify: auto` gets: the running watch's mode once started, else the prediction. */
  private describeV1Notify(reader: CgroupV1Memory, options: ContainerOptions): string {
    const fallback = this.container
      ? this.container.mode === 'eventfd'
        ? undefined
        : this.container.fallback
      : usageThresholdsUnavailable(reader, this.environment.eventfd());
    return fallback === undefined
      ? 'usage thresholds by eventfd'
      : `polled every ${options.interval} ms: usage thresholds unavailable, ${fallback}`;
  }

  private describeContainer(reader: ContainerReader, sample: ContainerSample): string {
    const options = this.options.container as ContainerOptions;
    const how =
      reader instanceof CgroupV1Memory
        ? options.notify === 'auto'
          ? this.describeV1Notify(reader, options)
          : `polled every ${options.interval} ms`
        : reader instanceof CgroupV2Memory
          ? `polled every ${options.interval} ms, memory.events watched`
          : `RSS polled every ${options.interval} ms`;
    const ttl = options.timeToLimit;
    const timeToLimit = ttl
      ? `, or when the limit is less than ${formatDuration(ttl.medium)} (medium)${Number.isFinite(ttl.critical) ? ` or ${formatDuration(ttl.critical)} (critical)` : ''} away at the growth rate`
      : '';
    return (
      `${reader.kind} ${reader.name}: ${formatBytes(sample.usage)} of ${formatBytes(sample.limit)}, ` +
      `medium at ${formatThreshold(options.medium)}, critical at ${formatThreshold(options.critical)}${timeToLimit} (${how})`
    );
  }
}
