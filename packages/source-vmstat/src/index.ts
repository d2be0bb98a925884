import { definePlugin } from '@memshed/core';
import { VmstatSource } from './vmstat-source';
import { vmstatSourceOptionsSchema } from './vmstat-source-options';

/** The `vmstat` source plugin. */
export const vmstatSourceModule = definePlugin({
  kind: 'source',
  id: 'vmstat',
  description: 'reclaim counters (/proc/vmstat, cgroup v2 memory.stat) through the kernel vmpressure window',
  optionsSchema: vmstatSourceOptionsSchema,
  create: (options) => new VmstatSource(options),
});
export default vmstatSourceModule;

export { VmstatSource } from './vmstat-source';
export { vmstatSourceOptionsSchema } from './vmstat-source-options';
export type { VmstatSourceOptions } from './vmstat-source-options';
export { parseMemoryStat, parseVmstat } from './reclaim-counters';
export type { CountersResult, ReclaimCounters } from './reclaim-counters';
