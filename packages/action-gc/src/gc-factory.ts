import { SheddingActionFactory } from '@memshed/core';
import { inject, injectable, optional } from '@memshed/core/inversify';
import { GcAction, GcEnvironment, GcGate } from './gc-action';
import { gcOptionsSchema, type GcOptions } from './gc-options';

/** Creates gc actions sharing one rate limit per container. */
@injectable()
export class GcFactory implements SheddingActionFactory<GcOptions> {
  readonly id = 'gc';
  readonly description = 'Collect garbage and give the freed memory back to the kernel (malloc_trim)';
  readonly optionsSchema = gcOptionsSchema;

  constructor(
    @inject(GcGate) private readonly gate: GcGate,
    @inject(GcEnvironment) @optional() private readonly environment?: GcEnvironment,
  ) {}

  create(options: GcOptions): GcAction {
    return new GcAction(options, this.gate, this.environment);
  }
}
