/**
 * @memshed/source-cgroup-v1: the `cgroup-v1` source, the kernel's vmpressure notifications
 * (`memory.pressure_level`) of a cgroup v1 memory cgroup, with OOM and usage-threshold events.
 * Linux-only; importing it never throws, and on other platforms its availability says why not.
 */
import { ContainerModule } from '@memshed/core/inversify';
import { PressureSourceFactory } from '@memshed/core';
import { CgroupV1SourceFactory } from './cgroup-v1-source-factory';

/** The plugin module: binds {@link CgroupV1SourceFactory} as a PressureSourceFactory. */
const cgroupV1Module = new ContainerModule(({ bind }) => {
  bind(CgroupV1SourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(CgroupV1SourceFactory);
});
export default cgroupV1Module;

export { CgroupV1SourceFactory } from './cgroup-v1-source-factory';
export { CGROUP_V1_SOURCE_ID, CgroupV1Source } from './cgroup-v1-source';
export type { CgroupV1Registration, CgroupV1SourceState } from './cgroup-v1-source';
export { defaultCgroupV1Host } from './cgroup-v1-host';
export type { CgroupV1Host } from './cgroup-v1-host';
export { DEFAULT_MEMORY_MOUNT } from './cgroup-v1-probe';
export { cgroupV1OptionsSchema, parseUsageThreshold } from './cgroup-v1-options';
export type { CgroupV1Options, CgroupV1OptionsInput, UsageThreshold } from './cgroup-v1-options';
