import { PressureSourceFactory } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { VmscanSimSourceFactory } from './vmscan-sim-source';

export {
  RECLAIM_RUNS_PER_SLICE,
  VmscanSimSource,
  VmscanSimSourceFactory,
  vmscanSimOptionsSchema,
} from './vmscan-sim-source';
export type { VmscanSimOptions, VmscanSimSourceInit } from './vmscan-sim-source';
export { SimulatedMachine } from './simulated-machine';
export type { GroupSnapshot, MachineActivity, SimulatedMachineOptions } from './simulated-machine';
export { AnonOwner, SimulatedCache, SimulatedService, SimulatedWorkload } from './simulated-app';
export { LruList, LruPair, MemoryGroup } from './memory-group';
export type { MemoryGroupStats } from './memory-group';
export { DEF_PRIORITY, MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX, Vmscan } from './vmscan';
export type { ScanControl, SwapSpace } from './vmscan';
export { Prng } from './prng';
export { PAGE_SIZE, bytesToPages, formatBytes, pagesToMiB, parseBytes, parseRate } from './units';
export { durationSchema, rateSchema, scenarioSchema, sizeSchema } from './scenario';
export type {
  Scenario,
  ScenarioCache,
  ScenarioGroup,
  ScenarioInput,
  ScenarioPhase,
  ScenarioPolicy,
  ScenarioService,
  ScenarioWorkload,
} from './scenario';
export {
  BUILTIN_SCENARIO_DIR,
  builtinScenarioNames,
  loadScenario,
  parseScenario,
  validateScenario,
} from './scenario-loader';
export {
  SIMULATED_ACTION_MODULES,
  SimulatedHooks,
  scenarioPolicySpecs,
  simulatedActionFactories,
  simulatedGcModule,
} from './simulated-hooks';
export { Simulation } from './simulation';
export { STATE_COLORS, renderPlotSvg, stateIntervals } from './plot';
export { renderPlotHtml } from './plot-html';
export { formatTime } from './svg-elements';
export type { PlotOptions } from './plot';
export type { LevelCounts, SampleGroup, SimulationOptions, SimulationRecord } from './simulation';

/** The `vmscan-sim` plugin: binds the {@link VmscanSimSourceFactory} as a pressure source. */
const vmscanSimModule = new ContainerModule(({ bind }) => {
  bind(VmscanSimSourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(VmscanSimSourceFactory);
});

export default vmscanSimModule;
