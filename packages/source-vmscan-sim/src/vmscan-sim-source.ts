import { MemshedError, type PressureSink, type PressureSource, type SourceAvailability } from '@memshed/core';
import type { SchedulerAction, Subscription } from 'rxjs';
import { z } from '@memshed/options';
import type { Scenario } from './scenario';
import { loadScenario } from './scenario-loader';
import { SimulatedMachine } from './simulated-machine';

/**
 * Reclaim runs (`try_to_free_mem_cgroup_pages` calls, 32 pages each) charged before the source
 * yields to the scheduler and the engine's work runs. The kernel runs that work on another CPU
 * while reclaim goes on, so a long failing run is reported window by window, not as one average
 * with the runs before it; two runs per slice is what the calibration against the kernel chose
 * (test/calibration): with four, a failing run's event averaged in the runs that went well.
 */
export const RECLAIM_RUNS_PER_SLICE = 2;

/** The `with:` options of the `vmscan-sim` source. */
export const vmscanSimOptionsSchema = z.strictObject({
  /** A built-in scenario (`steady`, `ramp`, `spike`, `thrash`, `leak`) or the path of a scenario file. */
  scenario: z.string().default('steady'),
  /** The seed of the model's random draws; default the scenario's own. */
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1)
    .optional(),
  /** The engine path of the simulated machine; its groups sit below it (`/sim/app`). */
  root: z.string().startsWith('/').default('/sim'),
  /** Model milliseconds per scheduler millisecond: 10 runs a 10-minute scenario in a minute. */
  speed: z.number().positive().max(1000).default(1),
});

/** The `vmscan-sim` options, validated and defaulted. */
export type VmscanSimOptions = z.output<typeof vmscanSimOptionsSchema>;

/** What a {@link VmscanSimSource} runs: a parsed scenario and the run's settings. */
export interface VmscanSimSourceInit {
  /** The scenario, parsed (see `loadScenario`). */
  readonly scenario: Scenario;
  /** The seed; default the scenario's. */
  readonly seed?: number;
  /** The engine path of the machine. Default `/sim`. */
  readonly root?: string;
  /** Model milliseconds per scheduler millisecond. Default 1. */
  readonly speed?: number;
}

/**
 * The simulated vmscan source: a {@link SimulatedMachine} stepped on the sink's scheduler every
 * scenario tick, whose reclaim feeds the engine through `account()` and `accountPriority()` at the
 * nodes of its groups (`/sim`, `/sim/app`, ...). With a virtual-time scheduler (`ManualScheduler`)
 * a run is instant and exactly repeatable; with the default scheduler it runs in real time
 * (scaled by `speed`). It needs nothing from the machine it runs on.
 *
 * The simulated application's hooks (caches, services) are on {@link machine} once started.
 */
export class VmscanSimSource implements PressureSource {
  /** The plugin id. */
  readonly id = 'vmscan-sim';
  /** The scenario it runs. */
  readonly scenario: Scenario;
  /** The seed it runs with. */
  readonly seed: number;
  private simulated: SimulatedMachine | undefined;
  private ticking: Subscription | undefined;
  private readonly root: string;
  private readonly speed: number;

  constructor(init: VmscanSimSourceInit) {
    this.scenario = init.scenario;
    this.seed = init.seed ?? init.scenario.seed;
    this.root = init.root ?? '/sim';
    this.speed = init.speed ?? 1;
  }

  /** The running machine: groups, workloads and their hooks. Undefined before start. */
  get machine(): SimulatedMachine | undefined {
    return this.simulated;
  }

  availability(): SourceAvailability {
    return {
      available: true,
      detail: `simulated machine, scenario '${this.scenario.name}', seed ${this.seed}`,
    };
  }

  start(sink: PressureSink): void {
    if (this.simulated) {
      throw new MemshedError('invalid-argument', `Source 'vmscan-sim' is already started`);
    }
    const machine = new SimulatedMachine(this.scenario, { seed: this.seed, root: this.root });
    this.simulated = machine;
    machine.attach((path) => sink.node(path));
    const scheduler = sink.scheduler;
    const origin = scheduler.now();
    const speed = this.speed;
    const interval = this.scenario.tick / speed;
    machine.start(0);
    let pending = true;
    // Each run charges at most RECLAIM_RUNS_PER_SLICE reclaim runs, then yields with delay 0: the
    // engine's work (scheduled while reclaim fed it) runs in between, as the kernel's vmpressure
    // work runs on another CPU while reclaim goes on, and listeners can act before the next slice.
    this.ticking = scheduler.schedule(function tick(this: SchedulerAction<undefined>) {
      try {
        if (!pending) machine.advanceTo((scheduler.now() - origin) * speed);
        pending = !machine.drain(RECLAIM_RUNS_PER_SLICE);
      } catch (error) {
        // A model bug must not take the host down: report it and stop ticking.
        sink.error(error, 'The simulated machine failed');
        return;
      }
      this.schedule(undefined, pending ? 0 : interval);
    }, 0);
  }

  stop(): void {
    this.ticking?.unsubscribe();
    this.ticking = undefined;
    this.simulated?.dispose();
  }
}

/**
 * A `vmscan-sim` source from validated config options: `{ use: vmscan-sim, with: { scenario: ramp,
 * seed: 7 } }`. Loads the scenario now, so that a bad name fails before anything starts.
 *
 * @throws MemshedError `invalid-argument`/`invalid-config` when the scenario cannot be loaded.
 */
export function createVmscanSimSource(options: VmscanSimOptions): VmscanSimSource {
  return new VmscanSimSource({
    scenario: loadScenario(options.scenario),
    seed: options.seed,
    root: options.root,
    speed: options.speed,
  });
}
