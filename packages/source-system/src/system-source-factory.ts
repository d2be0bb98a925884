import { PressureSourceFactory, type PressureSource } from '@memshed/core';
import { injectable } from '@memshed/core/inversify';
import { SystemSource } from './system-source';
import { systemSourceOptionsSchema, type SystemSourceOptions } from './system-source-options';

/** Creates `system` sources from validated options: the plugin as config and the CLI see it. */
@injectable()
export class SystemSourceFactory implements PressureSourceFactory<SystemSourceOptions> {
  readonly id = 'system';
  readonly description =
    "Headroom against the real limit: the container's own (cgroup v1/v2, constrained memory) and the machine's (MemAvailable, macOS, Windows)";
  readonly optionsSchema = systemSourceOptionsSchema;

  create(options: SystemSourceOptions): PressureSource {
    return new SystemSource(options);
  }
}
