import { LevelGate, type HeadroomReading, type PressureNode, type PressureSink } from '@memshed/core';
import { headroomReading, type HeadroomSample } from '@memshed/growth-trend';
import { interval } from '@memshed/core/rx';
import type { Subscription } from 'rxjs';
import type { HostMemory, HostMemoryReader } from './host-reader';
import type { HostOptions } from './system-source-options';
import { levelForUsage, resolveThresholds } from './threshold';

/** The part of the source that watches the machine's memory. */
export class HostWatch {
  private timer: Subscription | undefined;
  private pending = false;
  private failing = false;
  private stopped = false;
  private lastRead: HeadroomSample | undefined;
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

  /** Reads the machine now, then every `interval`. */
  start(): void {
    this.read();
    this.timer = interval(this.options.interval, this.sink.scheduler).subscribe(() => this.read());
  }

  /**
   * The machine's memory in use (total less available) against its total as last read; undefined
   * before the first read, once stopped, and where the OS says a level rather than bytes (macOS).
   * No time to limit: the host part does not predict.
   */
  headroom(): HeadroomReading | undefined {
    if (this.stopped || !this.lastRead) return undefined;
    return headroomReading('host', this.lastRead, undefined);
  }

  /** Stops reading; a pending read (sysctl) is ignored when it settles. */
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
      this.lastRead = undefined;
      this.gate.offer(memory.level === 'normal' ? undefined : memory.level);
    } else {
      const used = memory.total - memory.available;
      this.lastRead = { time: this.sink.scheduler.now(), used, limit: memory.total };
      this.gate.offer(levelForUsage(used, resolveThresholds(this.options, memory.total)));
    }
  }

  /** Reports the first failure of a run of failures, not one per poll. */
  private fail(error: unknown): void {
    // What was read before is no longer what the machine holds: no reading rather than an old one.
    this.lastRead = undefined;
    if (this.failing) return;
    this.failing = true;
    this.sink.error(error, `Source 'system' could not read ${this.reader.description}`);
  }
}
