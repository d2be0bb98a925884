import {
  createMemshed,
  silentLogger,
  vmpressurePercent,
  type Logger,
  type Memshed,
  type PressureLevel,
  type PressureState,
} from '@memshed/core';
import { ManualScheduler } from '@memshed/core/testing';
import { actionFactoriesOf, attachPolicies, type PolicyFireReason, type PolicyRunner } from '@memshed/policy';
import type { Observable } from 'rxjs';
import { Subject } from '@memshed/core/rx';
import type { Scenario } from './scenario';
import { loadScenario } from './scenario-loader';
import {
  SIMULATED_ACTION_MODULES,
  SimulatedHooks,
  scenarioPolicySpecs,
  simulatedGcModule,
} from './simulated-hooks';
import type { MachineActivity, SimulatedMachine } from './simulated-machine';
import { VmscanSimSource } from './vmscan-sim-source';

/** Event counts by level. */
export interface LevelCounts {
  low: number;
  medium: number;
  critical: number;
}

/** One group in a sample. */
export interface SampleGroup {
  /** The engine path. */
  readonly path: string;
  /** Bytes charged (group and descendants). */
  readonly usage: number;
  /** The limit in bytes, when it has one. */
  readonly limit?: number;
  /** Resident anonymous bytes. */
  readonly anon: number;
  /** Page cache bytes. */
  readonly file: number;
  /** Swapped-out bytes. */
  readonly swap: number;
  /** Pages scanned by reclaim targeting this group since the previous sample (with priority windows). */
  readonly scanned: number;
  /** Pages reclaimed by it since the previous sample. */
  readonly reclaimed: number;
  /** The kernel's pressure over the interval, 0-100, when anything was scanned. */
  readonly pressure?: number;
  /** Working-set refaults since the previous sample. */
  readonly refaults: number;
}

/**
 * One line of a simulation's recording: what `memshed simulate --json` prints, one JSON object per
 * line, and what the plot is drawn from. Times `t` are model milliseconds from the start; bytes are
 * bytes; scanned and reclaimed are pages.
 */
export type SimulationRecord =
  | {
      readonly type: 'start';
      readonly t: number;
      readonly scenario: string;
      readonly description: string;
      readonly seed: number;
      readonly duration: number;
      /** The group the plot and timeline follow. */
      readonly focus: string;
      readonly groups: readonly { readonly path: string; readonly limit?: number }[];
      readonly policies: readonly { readonly name: string; readonly level: PressureLevel }[];
    }
  | {
      readonly type: 'sample';
      readonly t: number;
      /** The monitor's state. */
      readonly state: PressureState;
      /** Pressure events since the previous sample, by level. */
      readonly events: LevelCounts;
      readonly groups: readonly SampleGroup[];
    }
  | {
      readonly type: 'state';
      readonly t: number;
      readonly state: PressureState;
      readonly previous: PressureState;
    }
  | {
      readonly type: 'action';
      readonly t: number;
      readonly action: string;
      readonly workload: string;
      readonly target: string;
      readonly freedBytes: number;
      /** The policy that ran it, or what the caller of the hook said. */
      readonly by?: string;
    }
  | {
      /** A policy's chain starts, and why (see `PolicyFireReason` in @memshed/policy). */
      readonly type: 'fired';
      readonly t: number;
      readonly policy: string;
      readonly reason: PolicyFireReason;
      /** Which run of the episode, from 1. */
      readonly run: number;
      readonly state: PressureState;
    }
  | {
      /** A policy's chain freed nothing while its condition holds: its next run waits `delay` ms at least. */
      readonly type: 'backed-off';
      readonly t: number;
      readonly policy: string;
      readonly delay: number;
      readonly why: string;
    }
  | {
      readonly type: 'oom';
      readonly t: number;
      readonly group: string;
      readonly workload?: string;
      readonly freedBytes: number;
    }
  | { readonly type: 'restart'; readonly t: number; readonly workload: string }
  | {
      readonly type: 'phase';
      readonly t: number;
      readonly workload: string;
      readonly phase: number;
      readonly label?: string;
    }
  | {
      readonly type: 'end';
      readonly t: number;
      readonly state: PressureState;
      readonly events: LevelCounts;
      readonly actions: number;
      readonly oomKills: number;
      /** The focus group's highest usage, bytes. */
      readonly peakUsage: number;
    };

/** Options of {@link Simulation.create}. */
export interface SimulationOptions {
  /** A parsed scenario, or a built-in name or file path to load. */
  readonly scenario: Scenario | string;
  /** The seed; default the scenario's. */
  readonly seed?: number;
  /**
   * Run the scenario's policies against the simulated app, with memshed's policy runner and action
   * plugins. Default true; false to write your own.
   */
  readonly policies?: boolean;
  /** The monitor's quiet period; default the scenario's `recovery.quiet`. */
  readonly quiet?: number;
  /** How long to run; default the scenario's `duration`. */
  readonly duration?: number;
  /** Where memshed logs. Default silent. */
  readonly logger?: Logger;
}

/**
 * A whole simulated run in virtual time: a `ManualScheduler`, memshed with the `vmscan-sim` source
 * on it (the real engine and monitor), the scenario's policies (unless turned off) run by the real
 * policy runner and action plugins on the simulated app's hooks, and a recorder that turns it all
 * into {@link SimulationRecord}s. Nothing waits on a wall clock: `advanceTo` runs minutes of model
 * time in milliseconds, and the same scenario and seed give the same records.
 *
 * Actions are promise-based, and promises do not follow a virtual clock: the clock moves one tick
 * of the model at a time, and while an action is under way the promises settle between ticks. The
 * hooks are synchronous, so an action's effects land within the tick it runs in.
 *
 * @example
 * const simulation = await Simulation.create({ scenario: 'ramp', seed: 7 });
 * simulation.records$.subscribe((record) => console.log(JSON.stringify(record)));
 * await simulation.run(); // to the scenario's end
 * await simulation.stop();
 */
export class Simulation {
  /** Every record so far, in order. */
  readonly records: SimulationRecord[] = [];
  /** Records as they are made (subscribe before advancing; `start` is already in {@link records}). */
  readonly records$: Observable<SimulationRecord>;
  /** How long the run lasts, model milliseconds. */
  readonly duration: number;

  private readonly stream = new Subject<SimulationRecord>();
  private readonly counts: LevelCounts = { low: 0, medium: 0, critical: 0 };
  private readonly totals: LevelCounts = { low: 0, medium: 0, critical: 0 };
  private readonly last = new Map<string, { scanned: number; reclaimed: number; refaults: number }>();
  private actions = 0;
  private oomKills = 0;
  private peakUsage = 0;
  private ended = false;
  private policies: PolicyRunner | undefined;
  private hooks: SimulatedHooks | undefined;

  private constructor(
    /** The scenario. */
    readonly scenario: Scenario,
    /** The seed. */
    readonly seed: number,
    /** The virtual clock everything runs on. */
    readonly scheduler: ManualScheduler,
    /** memshed: engine, monitor, `level$`, `events$`. */
    readonly memshed: Memshed,
    /** The simulated machine: groups, workloads, and the app's hooks. */
    readonly machine: SimulatedMachine,
    /** The group the recording follows. */
    readonly focus: string,
    duration: number,
  ) {
    this.records$ = this.stream.asObservable();
    this.duration = duration;
  }

  /** Loads the scenario, starts memshed with the source on a virtual clock at 0, records `start`. */
  static async create(options: SimulationOptions): Promise<Simulation> {
    const scenario = typeof options.scenario === 'string' ? loadScenario(options.scenario) : options.scenario;
    const seed = options.seed ?? scenario.seed;
    const scheduler = new ManualScheduler(0);
    const source = new VmscanSimSource({ scenario, seed });
    const memshed = await createMemshed({
      modules: [...SIMULATED_ACTION_MODULES, simulatedGcModule(() => source.machine)],
      sources: [source],
      scheduler,
      recovery: { quiet: options.quiet ?? scenario.recovery.quiet },
      logger: options.logger ?? silentLogger,
    });
    const status = memshed.sources[0];
    if (status.state !== 'running' || !source.machine) {
      await memshed.stop();
      throw status.error ?? new Error('the vmscan-sim source did not start');
    }
    const machine = source.machine;
    const focusGroup =
      (scenario.plot.group !== undefined ? machine.group(scenario.plot.group) : undefined) ??
      machine.workloads[0].group;
    const simulation = new Simulation(
      scenario,
      seed,
      scheduler,
      memshed,
      machine,
      focusGroup.path,
      options.duration ?? scenario.duration,
    );
    simulation.begin(options.policies ?? true);
    return simulation;
  }

  /** Model time now, milliseconds. */
  get time(): number {
    return this.scheduler.now();
  }

  /** Whether the run reached its duration (and recorded `end`). */
  get done(): boolean {
    return this.ended;
  }

  /**
   * Runs the model up to `time` (capped at the duration), one tick at a time, letting running
   * actions settle between ticks; records `end` on reaching the duration.
   */
  async advanceTo(time: number): Promise<void> {
    if (this.ended) return;
    const target = Math.min(time, this.duration);
    do {
      this.scheduler.advanceTo(Math.min(target, this.scheduler.now() + this.scenario.tick));
      // Nothing but microtasks is left to an action whose hooks are synchronous: one turn of the
      // event loop settles them all, deterministically, before the clock moves on.
      if (this.settling) await new Promise<void>((resolve) => setImmediate(resolve));
    } while (this.scheduler.now() < target);
    if (this.scheduler.now() >= this.duration) this.end();
  }

  /** Runs `ms` more of model time. */
  advanceBy(ms: number): Promise<void> {
    return this.advanceTo(this.time + ms);
  }

  /** Runs to the end; resolves with every record. */
  async run(): Promise<SimulationRecord[]> {
    await this.advanceTo(this.duration);
    return this.records;
  }

  /** Stops the policies (cancelling running actions), the source and memshed. */
  async stop(): Promise<void> {
    await this.policies?.stop();
    await this.memshed.stop();
    this.stream.complete();
  }

  /** Whether an action may be under way: a policy's chain, or a hook called from a timer. */
  private get settling(): boolean {
    const hooked = this.hooks?.takeActivity() ?? false;
    return hooked || (this.policies?.busy ?? false);
  }

  private emit(record: SimulationRecord): void {
    this.records.push(record);
    this.stream.next(record);
  }

  private begin(policies: boolean): void {
    const snapshot = this.machine.snapshot();
    this.emit({
      type: 'start',
      t: 0,
      scenario: this.scenario.name,
      description: this.scenario.description,
      seed: this.seed,
      duration: this.duration,
      focus: this.focus,
      groups: snapshot.map(({ path, limit }) => (limit === undefined ? { path } : { path, limit })),
      policies: policies
        ? scenarioPolicySpecs(this.scenario).map((p) => ({ name: p.name, level: p.level }))
        : [],
    });
    this.memshed.events$.subscribe((event) => {
      this.counts[event.level]++;
      this.totals[event.level]++;
    });
    let previous: PressureState = 'normal';
    this.memshed.level$.subscribe((state) => {
      if (state === previous) return;
      this.emit({ type: 'state', t: this.time, state, previous });
      previous = state;
    });
    this.machine.activity$.subscribe((activity) => this.recordActivity(activity));
    for (const group of this.machine.groups) {
      this.last.set(group.path, { scanned: 0, reclaimed: 0, refaults: 0 });
    }
    this.hooks = new SimulatedHooks(this.machine, this.memshed.container);
    if (policies && this.scenario.policies.length > 0) {
      this.policies = attachPolicies(this.memshed, scenarioPolicySpecs(this.scenario), {
        quiet: this.scenario.recovery.quiet,
        factories: this.hooks.attributeAll(actionFactoriesOf(this.memshed.container)),
      });
      this.policies.decisions$.subscribe((decision) => {
        if (decision.type === 'fired') {
          const { time: t, policy, reason, run, state } = decision;
          this.emit({ type: 'fired', t, policy, reason, run, state });
        } else if (decision.type === 'backed-off') {
          const { time: t, policy, delay, why } = decision;
          this.emit({ type: 'backed-off', t, policy, delay, why });
        }
      });
      this.policies.start();
    }
    // The workloads' initial memory is charged by the source's first run, due now.
    this.scheduler.flush();
    this.sample();
    const interval = this.scenario.sample;
    const sampleLater = (): void => {
      this.scheduler.schedule(() => {
        this.sample();
        if (this.scheduler.now() + interval <= this.duration) sampleLater();
      }, interval);
    };
    sampleLater();
  }

  private recordActivity(activity: MachineActivity): void {
    const { time: t, ...rest } = activity;
    if (activity.type === 'action') this.actions++;
    if (activity.type === 'oom' && activity.workload !== undefined) this.oomKills++;
    if (activity.type === 'oom' && activity.workload === undefined) {
      const { workload: _none, ...oom } = rest as Extract<MachineActivity, { type: 'oom' }>;
      this.emit({ t, ...oom });
      return;
    }
    this.emit({ t, ...rest } as SimulationRecord);
  }

  private sample(): void {
    const snapshot = this.machine.snapshot();
    const groups: SampleGroup[] = snapshot.map((group, index) => {
      const stats = this.machine.groups[index].stats;
      const last = this.last.get(group.path)!;
      const scanned = stats.vmpressureScanned - last.scanned;
      const reclaimed = stats.vmpressureReclaimed - last.reclaimed;
      const refaults = stats.refaults - last.refaults;
      this.last.set(group.path, {
        scanned: stats.vmpressureScanned,
        reclaimed: stats.vmpressureReclaimed,
        refaults: stats.refaults,
      });
      if (group.path === this.focus) this.peakUsage = Math.max(this.peakUsage, group.usage);
      return {
        path: group.path,
        usage: group.usage,
        ...(group.limit === undefined ? {} : { limit: group.limit }),
        anon: group.anon,
        file: group.file,
        swap: group.swap,
        scanned,
        reclaimed,
        ...(scanned > 0 ? { pressure: vmpressurePercent(scanned, reclaimed) } : {}),
        refaults,
      };
    });
    this.emit({
      type: 'sample',
      t: this.time,
      state: this.memshed.monitor.state,
      events: { ...this.counts },
      groups,
    });
    this.counts.low = this.counts.medium = this.counts.critical = 0;
  }

  private end(): void {
    this.ended = true;
    this.emit({
      type: 'end',
      t: this.time,
      state: this.memshed.monitor.state,
      events: { ...this.totals },
      actions: this.actions,
      oomKills: this.oomKills,
      peakUsage: this.peakUsage,
    });
  }
}
