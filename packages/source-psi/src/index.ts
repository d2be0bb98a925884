import { definePlugin } from '@memshed/core';
import { PsiSource } from './psi-source';
import { psiSourceOptionsSchema } from './psi-source-options';

/** The `psi` source plugin. */
export const psiSourceModule = definePlugin({
  kind: 'source',
  id: 'psi',
  description: 'PSI memory stall triggers (/proc/pressure/memory, cgroup v2 memory.pressure, systemd)',
  optionsSchema: psiSourceOptionsSchema,
  create: (options) => new PsiSource(options),
});
export default psiSourceModule;

export { PsiSource } from './psi-source';
export type { PsiMode } from './psi-source';
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
