import { injectable } from '@memshed/core/inversify';
import type { PressureSource, PressureSourceFactory } from '@memshed/core';
import { PsiSource } from './psi-source';
import { psiSourceOptionsSchema, type PsiSourceOptions } from './psi-source-options';

/** Creates `psi` sources. */
@injectable()
export class PsiSourceFactory implements PressureSourceFactory<PsiSourceOptions> {
  readonly id = 'psi';
  readonly description =
    'PSI memory stall triggers (/proc/pressure/memory, cgroup v2 memory.pressure, systemd)';
  readonly optionsSchema = psiSourceOptionsSchema;

  create(options: PsiSourceOptions): PressureSource {
    return new PsiSource(options);
  }
}
