import { PressureSourceFactory, type PressureSource } from '@memshed/core';
import { injectable } from '@memshed/core/inversify';
import { V8Source } from './v8-source';
import { v8SourceOptionsSchema, type V8SourceOptions } from './v8-source-options';

/** Creates `v8` sources from validated options: the plugin as config and the CLI see it. */
@injectable()
export class V8SourceFactory implements PressureSourceFactory<V8SourceOptions> {
  readonly id = 'v8';
  readonly description =
    'V8 heap: GC efficiency (freed / examined per collection) through the vmpressure window, and committed heap against heap_size_limit';
  readonly optionsSchema = v8SourceOptionsSchema;

  create(options: V8SourceOptions): PressureSource {
    return new V8Source(options);
  }
}
