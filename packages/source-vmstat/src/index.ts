import { ContainerModule } from '@memshed/core/inversify';
import { PressureSourceFactory } from '@memshed/core';
import { VmstatSourceFactory } from './vmstat-source-factory';

/** The `vmstat` source plugin. */
export const vmstatSourceModule = new ContainerModule(({ bind }) => {
  bind(VmstatSourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(VmstatSourceFactory);
});
export default vmstatSourceModule;

export { VmstatSource } from './vmstat-source';
export { VmstatSourceFactory } from './vmstat-source-factory';
export { vmstatSourceOptionsSchema } from './vmstat-source-options';
export type { VmstatSourceOptions } from './vmstat-source-options';
export { parseMemoryStat, parseVmstat } from './reclaim-counters';
export type { CountersResult, ReclaimCounters } from './reclaim-counters';
