/**
 * @memshed/source-system: headroom against the real limit. Usage against the container's own
 * limit (cgroup v1 eventfd thresholds, cgroup v2, `process.constrainedMemory()`), the machine's
 * available memory (Linux MemAvailable, Windows memory load) and macOS's own pressure level: the
 * early warning that reclaim-based levels give too late, and the source that works everywhere.
 */
import { PressureSourceFactory } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { SystemSourceFactory } from './system-source-factory';

export { ConstrainedMemoryReader, locateContainer } from './container-reader';
export type {
  ContainerKind,
  ContainerReader,
  ContainerSample,
  LocateContainerOptions,
  ProcessMemory,
} from './container-reader';
export {
  DarwinPressureReader,
  MeminfoReader,
  WindowsMemoryReader,
  darwinPressureLevel,
  parseDarwinSysctl,
  windowsMemoryLoad,
} from './host-reader';
export type { HostMemory, HostMemoryReader, OsMemory, SysctlRunner } from './host-reader';
export { SystemSource } from './system-source';
export { runtimeEnvironment } from './system-environment';
export type { SystemSourceEnvironment } from './system-environment';
export { SystemSourceFactory } from './system-source-factory';
export { systemSourceOptionsSchema } from './system-source-options';
export type {
  ContainerOptions,
  HostOptions,
  SystemSourceOptions,
  SystemSourceOptionsInput,
} from './system-source-options';
export {
  formatBytes,
  formatThreshold,
  levelForUsage,
  lowestThreshold,
  parseThreshold,
  resolveThresholds,
  thresholdBytes,
} from './threshold';
export type { LevelThresholds, ResolvedThresholds, Threshold } from './threshold';
export { armUsageThresholds } from './usage-thresholds';
export type { EventfdFactory, UsageThresholds } from './usage-thresholds';

/** The `system` source plugin: binds {@link SystemSourceFactory} as a {@link PressureSourceFactory}. */
const systemSourceModule = new ContainerModule(({ bind }) => {
  bind(SystemSourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(SystemSourceFactory);
});

export default systemSourceModule;
