import { injectable } from '@memshed/core/inversify';
import type { PressureSourceFactory } from '@memshed/core';
import { cgroupV1OptionsSchema, type CgroupV1Options } from './cgroup-v1-options';
import { CGROUP_V1_SOURCE_ID, CgroupV1Source } from './cgroup-v1-source';

/** Creates {@link CgroupV1Source}s: the `cgroup-v1` plugin. */
@injectable()
export class CgroupV1SourceFactory implements PressureSourceFactory<CgroupV1Options> {
  readonly id = CGROUP_V1_SOURCE_ID;
  readonly description =
    "cgroup v1 memory.pressure_level: the kernel's vmpressure levels (low, medium, critical) for one memory cgroup, plus OOM and usage-threshold events";
  readonly optionsSchema = cgroupV1OptionsSchema;

  create(options: CgroupV1Options): CgroupV1Source {
    return new CgroupV1Source(options);
  }
}
