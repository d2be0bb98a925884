import { ContainerModule } from '@memshed/core/inversify';
import { PressureSourceFactory } from '@memshed/core';
import { PsiSourceFactory } from './psi-source-factory';

/** The `psi` source plugin. */
export const psiSourceModule = new ContainerModule(({ bind }) => {
  bind(PsiSourceFactory).toSelf().inSingletonScope();
  bind(PressureSourceFactory).toService(PsiSourceFactory);
});
export default psiSourceModule;

export { PsiSource } from './psi-source';
export type { PsiMode } from './psi-source';
export { PsiSourceFactory } from './psi-source-factory';
export { psiSourceOptionsSchema } from './psi-source-options';
export type { PsiSourceOptions } from './psi-source-options';
export { parsePsi } from './psi-format';
export type { PsiLine, PsiParseResult, PsiStats } from './psi-format';
export {
  formatTrigger,
  parseTrigger,
  triggerPercent,
  validateTrigger,
  UNPRIVILEGED_WINDOW_US,
} from './psi-trigger';
export type { PsiTrigger } from './psi-trigger';
export { resolvePsiTarget } from './psi-target';
export type { PsiTarget, PsiTargetOptions } from './psi-target';
