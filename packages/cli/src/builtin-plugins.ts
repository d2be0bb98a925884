import { MemshedError, loadPlugins, type LoadedPlugins } from '@memshed/core';
import type { ContainerModule } from 'inversify';

/**
 * The plugin packages memshed ships, by package name. Each default-exports a ContainerModule.
 * A package that is not installed is skipped, so a slim install still works.
 */
export const BUILTIN_PLUGIN_PACKAGES: readonly string[] = Object.freeze([
  '@memshed/source-cgroup-v1',
  '@memshed/source-psi',
  '@memshed/source-vmstat',
  '@memshed/source-system',
  '@memshed/source-v8',
  '@memshed/source-vmscan-sim',
  '@memshed/action-cache-purge',
  '@memshed/action-service-shutdown',
  '@memshed/action-gc',
]);

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

/** Whether `value` looks like an inversify ContainerModule (duck-typed: copies of inversify differ). */
export function isContainerModule(value: unknown): value is ContainerModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ContainerModule).load === 'function' &&
    typeof (value as ContainerModule).id === 'number'
  );
}

/**
 * Loads a plugin package or module path and returns its ContainerModule (the default export).
 *
 * @throws MemshedError `unknown-plugin` when it cannot be found, `invalid-config` when it does not
 * export a ContainerModule.
 */
export function requirePluginModule(name: string, from: string = process.cwd()): ContainerModule {
  let resolved: string;
  try {
    resolved = require.resolve(name, { paths: [from, __dirname] });
  } catch (error) {
    throw new MemshedError('unknown-plugin', `Plugin module '${name}' cannot be found from ${from}`, {
      cause: error,
      fix: `install it (npm install ${name}) or fix the path`,
    });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const loaded = require(resolved) as { default?: unknown };
  const module = isContainerModule(loaded.default)
    ? loaded.default
    : isContainerModule(loaded)
      ? loaded
      : undefined;
  if (!module) {
    throw new MemshedError(
      'invalid-config',
      `Plugin module '${name}' does not default-export a ContainerModule`,
      {
        fix: 'export default new ContainerModule(({ bind }) => ...) binding a PressureSourceFactory or SheddingActionFactory',
      },
    );
  }
  return module;
}

/**
 * Loads every installed built-in plugin package, skipping those that are not installed (and, in
 * this repository, packages not implemented yet, which export nothing). A test checks that every
 * implemented built-in loads and provides the factory its id promises.
 */
export function builtinModules(): ContainerModule[] {
  const modules: ContainerModule[] = [];
  for (const name of BUILTIN_PLUGIN_PACKAGES) {
    try {
      modules.push(requirePluginModule(name));
    } catch (error) {
      if (MemshedError.is(error, 'unknown-plugin')) continue;
      if (MemshedError.is(error, 'invalid-config') && isEmptyModule(name)) continue;
      throw error;
    }
  }
  return modules;
}

function isEmptyModule(name: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return Object.keys(require(name) as object).length === 0;
}

/** The built-in plugins, loaded into a container (nothing created or started). */
export function loadBuiltinPlugins(): LoadedPlugins {
  return loadPlugins(builtinModules());
}
