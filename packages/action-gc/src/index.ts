import { definePlugin } from '@memshed/core';
import { GcAction, GcEnvironment, GcGate } from './gc-action';
import { gcOptionsSchema } from './gc-options';

/** The gc plugin (id `gc`): the action, and the rate limit its actions share in a container. */
const gcModule = definePlugin({
  kind: 'action',
  id: 'gc',
  description: 'Collect garbage and give the freed memory back to the kernel (malloc_trim)',
  optionsSchema: gcOptionsSchema,
  bind: ({ bind }) => void bind(GcGate).toSelf().inSingletonScope(),
  // A GcEnvironment bound in the container (the simulator's) replaces the process's own gc.
  create: (options, services) => new GcAction(options, services.get(GcGate), services.find(GcEnvironment)),
});

export default gcModule;
export { gcModule };
export { GcAction, GcEnvironment, GcGate } from './gc-action';
export { gcOptionsSchema } from './gc-options';
export type { GcOptions, GcOptionsInput } from './gc-options';
export { cgroupUsageFileAt, ownCgroupUsageFile, readUsage, sampleMemory } from './memory-sample';
export type { CgroupUsageFile, MemorySample } from './memory-sample';
