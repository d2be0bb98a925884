import type { PressureNode } from '../engine';
import type { PressureLevel } from '../levels';
import type { PressureSink, PressureSource, SourceAvailability } from '../plugin';

/**
 * A source driven by the test: start it through `createMemshed({ sources: [fake] })`, then push
 * pressure with `signal()`, `account()` and `accountPriority()` as a real source would.
 *
 * @example
 * const fake = new FakeSource();
 * const memshed = await createMemshed({ sources: [fake], scheduler });
 * fake.signal('critical', '/app');
 */
export class FakeSource implements PressureSource {
  /** Whether `start` has been called and `stop` not yet. */
  running = false;
  private sink: PressureSink | undefined;

  constructor(
    readonly id = 'fake',
    private readonly available: SourceAvailability = { available: true, detail: 'driven by the test' },
  ) {}

  availability(): SourceAvailability {
    return this.available;
  }

  start(sink: PressureSink): void {
    this.sink = sink;
    this.running = true;
  }

  stop(): void {
    this.running = false;
    this.sink = undefined;
  }

  /** The node at `path`, stamped with this source's id. */
  node(path = '/'): PressureNode {
    if (!this.sink) throw new Error(`FakeSource '${this.id}' is not started`);
    return this.sink.node(path);
  }

  /** `signal(level)` at `path`. */
  signal(level: PressureLevel, path = '/'): void {
    this.node(path).signal(level);
  }

  /** `account(scanned, reclaimed)` at `path`. */
  account(scanned: number, reclaimed: number, path = '/'): void {
    this.node(path).account(scanned, reclaimed);
  }

  /** `accountPriority(priority)` at `path`. */
  accountPriority(priority: number, path = '/'): void {
    this.node(path).accountPriority(priority);
  }

  /** Reports a failure through the sink, as a failing source would. */
  fail(error: unknown): void {
    this.sink?.error(error);
  }
}
