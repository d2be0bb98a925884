import { definePlugin } from '@memshed/core';
import { createVmscanSimSource, vmscanSimOptionsSchema } from './vmscan-sim-source';

export {
  RECLAIM_RUNS_PER_SLICE,
  VmscanSimSource,
  createVmscanSimSource,
  vmscanSimOptionsSchema,
} from './vmscan-sim-source';
export type { VmscanSimOptions, VmscanSimSourceInit } from './vmscan-sim-source';
export { SimulatedMachine } from './simulated-machine';
export type { GroupSnapshot, MachineActivity, SimulatedMachineOptions } from './simulated-machine';
export { AnonOwner, SimulatedCache, SimulatedService, SimulatedWorkload } from './simulated-app';
export { LruList, LruPair, MemoryGroup } from './memory-group';
export type { MemoryGroupStats } from './memory-group';
export { DEF_PRIORITY, IO_PER_SCAN, MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX, Vmscan } from './vmscan';
export type { ScanControl, SwapSpace } from './vmscan';
export { Prng } from './prng';
export { PAGE_SIZE, bytesToPages, pagesToMiB } from './units';
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
export {
  CALIBRATION_CONSTANTS,
  CALIBRATION_TOLERANCE,
  CALIBRATION_WORKLOADS,
  TARGET_FIGURES,
  calibrationScenario,
  calibrationSensitivity,
  figures,
  median,
  relativeError,
  simulateCalibration,
  simulateCalibrationMedians,
} from './calibration';
export type {
  CalibrationConstants,
  CalibrationFigures,
  CalibrationInputs,
  CalibrationWorkload,
  KernelCalibration,
  KernelMedians,
  SensitivityRow,
} from './calibration';
export { STATE_COLORS, renderPlotSvg, stateIntervals } from './plot';
export { renderPlotHtml } from './plot-html';
export { formatTime } from './svg-elements';
export type { PlotOptions } from './plot';
export type { LevelCounts, SampleGroup, SimulationOptions, SimulationRecord } from './simulation';

/** The `vmscan-sim` plugin: a simulated machine as a pressure source. */
const vmscanSimModule = definePlugin({
  kind: 'source',
  id: 'vmscan-sim',
  description: 'a simulated machine: a deterministic model of kernel reclaim, driven by a scenario',
  optionsSchema: vmscanSimOptionsSchema,
  create: createVmscanSimSource,
});

export default vmscanSimModule;
