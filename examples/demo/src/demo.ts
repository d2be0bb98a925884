import { SHED_PRIORITIES, shedPriorityRank, type PressureState } from '@memshed/core';
import {
  Simulation,
  formatTime,
  renderPlotHtml,
  type SimulationRecord,
  type SimulatedWorkload,
} from '@memshed/source-vmscan-sim';
import { writeFileSync } from 'node:fs';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Simulated milliseconds per wall millisecond; Infinity runs unpaced. Default 40 (10 minutes in 15 s). */
  readonly speed?: number;
  /** Where to write the plot (an HTML page). Default `memshed-demo.html` in the working directory. */
  readonly out?: string;
  /** The seed of the simulation. Default 1. */
  readonly seed?: number;
  /** Where the demo prints. Default the console. */
  readonly write?: (line: string) => void;
}

/** What the demo saw. */
export interface DemoResult {
  /** The monitor's states, in order of change (starting after `normal`). */
  readonly states: readonly PressureState[];
  /** What the policy did: `purge thumbnails` or `stop analytics`, in order. */
  readonly actions: readonly string[];
  /** OOM kills in the simulated app. */
  readonly oomKills: number;
  /** The state at the end. */
  readonly finalState: PressureState;
  /** Where the plot was written. */
  readonly plot: string;
  /** The whole recording. */
  readonly records: readonly SimulationRecord[];
}

const MIB = 1024 * 1024;
const PACING_STEP_MS = 50;

/**
 * The memshed demo: a web app in a 256 MiB memory cgroup (simulated: nothing is needed from this
 * machine) whose traffic and analytics service grow for six minutes. The kernel's reclaim is
 * modelled page by page and feeds memshed's engine exactly as the kernel's vmpressure does; the
 * app subscribes to the monitor and sheds: at `medium` it purges half of its low-priority caches,
 * at `critical` it stops its unimportant services. Memory falls, and the state steps back down to
 * `normal`.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const write = options.write ?? ((line: string) => console.log(line));
  const speed = options.speed ?? 40;
  const out = options.out ?? 'memshed-demo.html';

  // The scenario's own policies are off: the policy below is the app's code.
  const simulation = await Simulation.create({ scenario: 'ramp', seed: options.seed ?? 1, policies: false });
  const app = simulation.machine.workload('web')!;
  const limit = simulation.machine.group('app')!.limit * 4096;

  write('memshed demo: a web app in a 256 MiB memory cgroup, under rising memory pressure (simulated).');
  write(`  caches:   ${app.caches.map((c) => `${c.name} (${c.priority})`).join(', ')}`);
  write(`  services: ${app.services.map((s) => `${s.name} (${s.priority})`).join(', ')}`);
  write(
    '  policy:   at medium purge half of the low-priority caches; at critical stop the unimportant services.',
  );
  write(
    `  ${formatTime(simulation.duration)} of simulated time${
      speed === Infinity ? '' : ` at ${speed}x: about ${Math.round(simulation.duration / speed / 1000)} s`
    }; every pressure event comes from a page-level model of the kernel's reclaim.`,
  );
  write('');

  // The policy: the app listens to memshed and calls its own shedding hooks.
  const states: PressureState[] = [];
  const firstTime = new Map<PressureState, number>();
  simulation.memshed.level$.subscribe((state) => {
    if (state === 'normal' && states.length === 0) return;
    states.push(state);
    if (state !== 'normal' || firstTime.has('critical'))
      firstTime.set(state, firstTime.get(state) ?? simulation.time);
    if (state === 'medium') purgeCaches(app);
    if (state === 'critical') stopServices(app);
  });

  const actions: string[] = [];
  let oomKills = 0;
  simulation.records$.subscribe((record) => {
    const at = formatTime(record.t).padStart(5);
    switch (record.type) {
      case 'sample': {
        if (record.t % 30_000 !== 0) break;
        const group = record.groups.find((g) => g.path === simulation.focus)!;
        const pressure = group.pressure === undefined ? '  -' : `${String(group.pressure).padStart(3)}%`;
        write(
          `${at}  memory ${String(Math.round(group.usage / MIB)).padStart(3)}/${limit / MIB} MiB` +
            `  (app ${String(Math.round(group.anon / MIB)).padStart(3)} MiB, page cache ${String(Math.round(group.file / MIB)).padStart(3)} MiB)` +
            `  reclaim pressure ${pressure}  state ${record.state}`,
        );
        break;
      }
      case 'state':
        write(`${at}  memshed: ${record.previous} -> ${record.state.toUpperCase()}`);
        break;
      case 'action': {
        const verb = record.action === 'cache-purge' ? 'purge' : 'stop';
        actions.push(`${verb} ${record.target}`);
        write(`${at}    -> ${verb} ${record.target}: ${Math.round(record.freedBytes / MIB)} MiB freed`);
        break;
      }
      case 'oom':
        oomKills++;
        write(`${at}  !! the kernel OOM-killed ${record.workload ?? 'nothing'} in ${record.group}`);
        break;
      case 'phase':
        if (record.label) write(`${at}  (${record.label})`);
        break;
    }
  });

  if (speed === Infinity) {
    await simulation.run();
  } else {
    while (!simulation.done) {
      await new Promise((resolve) => setTimeout(resolve, PACING_STEP_MS));
      await simulation.advanceBy(PACING_STEP_MS * speed);
    }
  }
  const finalState = simulation.memshed.monitor.state;
  await simulation.stop();

  writeFileSync(out, renderPlotHtml(simulation.records));
  write('');
  const reached = [...firstTime].map(([state, t]) => `${state} at ${formatTime(t)}`).join(', ');
  write(
    `Done: ${reached || 'no pressure'}; ${actions.length} shedding action${actions.length === 1 ? '' : 's'}, ` +
      `${oomKills} OOM kill${oomKills === 1 ? '' : 's'}; final state ${finalState}.`,
  );
  write(
    `Plot: ${out} (open it in a browser). Without the policy the app is OOM-killed: npx memshed simulate ramp --no-policies`,
  );
  return { states, actions, oomKills, finalState, plot: out, records: simulation.records };
}

/** At medium: drop half of every cache that is low priority or less (cheap to rebuild). */
function purgeCaches(app: SimulatedWorkload): void {
  for (const cache of app.caches) {
    if (shedPriorityRank(cache.priority) <= shedPriorityRank('low')) cache.purge(0.5, 'demo policy (medium)');
  }
}

/** At critical: stop every running service below normal priority. */
function stopServices(app: SimulatedWorkload): void {
  for (const service of app.services) {
    if (SHED_PRIORITIES.indexOf(service.priority) < SHED_PRIORITIES.indexOf('normal')) {
      service.stop('demo policy (critical)');
    }
  }
}
