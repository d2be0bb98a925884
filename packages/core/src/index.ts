export {
  PRESSURE_LEVELS,
  PRESSURE_MODES,
  PRESSURE_STATES,
  compareLevels,
  isPressureLevel,
  isPressureMode,
  levelIndex,
  stateRank,
} from './levels';
export type { PressureLevel, PressureMode, PressureState } from './levels';
export {
  VMPRESSURE_CRITICAL_PRIORITY,
  VMPRESSURE_LEVEL_CRITICAL,
  VMPRESSURE_LEVEL_MEDIUM,
  VMPRESSURE_WINDOW,
  levelForPercent,
  vmpressureLevel,
  vmpressurePercent,
} from './vmpressure';
export { createEngine, normalizePath } from './engine';
export type { EngineOptions, PressureEngine, PressureEvent, PressureNode } from './engine';
export { DEFAULT_QUIET_MS, PressureMonitor } from './monitor';
export type { ListenOptions, MonitorOptions } from './monitor';
export { MemshedError } from './errors';
export type { MemshedErrorKind, MemshedErrorOptions } from './errors';
export { consoleLogger, silentLogger } from './logger';
export type { Logger } from './logger';
export { loopScheduler } from './scheduler';
export { didYouMean, knownNamesHint } from './suggest';
export { bindContributionProvider, contributionProviderId } from './contribution-provider';
export type { ContributionProvider } from './contribution-provider';
export {
  PressureSourceFactory,
  SheddingActionFactory,
  formatIssuePath,
  noOptions,
  validateOptions,
} from './plugin';
export type {
  ActionContext,
  ActionOutcome,
  ActionResult,
  HeadroomReading,
  HeadroomTarget,
  OptionsSchema,
  PluginDescriptor,
  PressureSink,
  PressureSource,
  SheddingAction,
  SourceAvailability,
} from './plugin';
export { definePlugin } from './define-plugin';
export type {
  ActionPluginDeclaration,
  PluginDeclaration,
  PluginServices,
  SourcePluginDeclaration,
} from './define-plugin';
export { MemshedFacet, createMemshed, isSkippedSource, loadPlugins } from './memshed';
export type {
  LoadedPlugins,
  Memshed,
  MemshedCore,
  MemshedOptions,
  SourceSpec,
  SourceStatus,
} from './memshed';
export * from './runner';
export {
  DURATION_OR_NEVER_PATTERN,
  DURATION_PATTERN,
  SIZE_OR_PERCENT_PATTERN,
  SIZE_PATTERN,
  formatBytes,
  formatDuration,
  parseBytes,
  parseBytesOrPercent,
  parseDuration,
  parseDurationOrNever,
  parseRate,
} from './units';
export type { BytesOrPercent } from './units';
export { LevelGate } from './level-gate';
