/**
 * @memshed/source-cgroup-v1: the `cgroup-v1` source, the kernel's vmpressure notifications
 * (`memory.pressure_level`) of a cgroup v1 memory cgroup, with OOM and usage-threshold events.
 * Linux-only; importing it never throws, and on other platforms its availability says why not.
 */
import { definePlugin } from '@memshed/core';
import { cgroupV1OptionsSchema } from './cgroup-v1-options';
import { CGROUP_V1_SOURCE_ID, CgroupV1Source } from './cgroup-v1-source';

/** The plugin module: the `cgroup-v1` source. */
const cgroupV1Module = definePlugin({
  kind: 'source',
  id: CGROUP_V1_SOURCE_ID,
  description:
    "cgroup v1 memory.pressure_level: the kernel's vmpressure levels (low, medium, critical) for one memory cgroup, plus OOM and usage-threshold events",
  optionsSchema: cgroupV1OptionsSchema,
  create: (options) => new CgroupV1Source(options),
});
export default cgroupV1Module;

export { CGROUP_V1_SOURCE_ID, CgroupV1Source } from './cgroup-v1-source';
export type { CgroupV1Registration, CgroupV1SourceState } from './cgroup-v1-source';
export { defaultCgroupV1Host } from './cgroup-v1-host';
export type { CgroupV1Host } from './cgroup-v1-host';
export { DEFAULT_MEMORY_MOUNT } from './cgroup-v1-probe';
export { cgroupV1OptionsSchema } from './cgroup-v1-options';
export type { CgroupV1Options, CgroupV1OptionsInput, UsageThreshold } from './cgroup-v1-options';
