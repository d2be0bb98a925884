import { injectable } from '@memshed/core/inversify';
import type { PressureSource, PressureSourceFactory } from '@memshed/core';
import { VmstatSource } from './vmstat-source';
import { vmstatSourceOptionsSchema, type VmstatSourceOptions } from './vmstat-source-options';

/** Creates `vmstat` sources. */
@injectable()
export class VmstatSourceFactory implements PressureSourceFactory<VmstatSourceOptions> {
  readonly id = 'vmstat';
  readonly description =
    'reclaim counters (/proc/vmstat, cgroup v2 memory.stat) through the kernel vmpressure window';
  readonly optionsSchema = vmstatSourceOptionsSchema;

  create(options: VmstatSourceOptions): PressureSource {
    return new VmstatSource(options);
  }
}
