import { SheddingActionFactory } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { GcGate } from './gc-action';
import { GcFactory } from './gc-factory';

/** The gc plugin (id `gc`): the action factory and the rate limit its actions share. */
const gcModule = new ContainerModule(({ bind }) => {
  bind(GcGate).toSelf().inSingletonScope();
  bind(GcFactory).toSelf().inSingletonScope();
  bind(SheddingActionFactory).toService(GcFactory);
});

export default gcModule;
export { gcModule };
export { GcAction, GcEnvironment, GcGate } from './gc-action';
export { GcFactory } from './gc-factory';
export { gcOptionsSchema } from './gc-options';
export type { GcOptions, GcOptionsInput } from './gc-options';
export { cgroupUsageFileAt, ownCgroupUsageFile, readUsage, sampleMemory } from './memory-sample';
export type { CgroupUsageFile, MemorySample } from './memory-sample';
