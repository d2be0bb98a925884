// The built-in plugin list lives in @memshed/config, which resolves plugin ids without the CLI;
// the CLI re-exports it and adds how `memshed watch` picks a default source.
export {
  BUILTIN_PLUGIN_PACKAGES,
  builtinModules,
  isContainerModule,
  loadBuiltinPlugins,
  requirePluginModule,
} from '@memshed/config';

/**
 * The order in which the default source is chosen when none is named: the kernel's own reclaim
 * signal first (milliseconds), then reclaim counters, PSI, then the headroom sources.
 */
export const DEFAULT_SOURCE_RANK: readonly string[] = Object.freeze([
  'cgroup-v1',
  'vmstat',
  'psi',
  'system',
  'v8',
]);
