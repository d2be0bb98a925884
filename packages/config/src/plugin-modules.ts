import { isAbsolute, resolve as resolvePath } from 'node:path';
import { MemshedError, loadPlugins, type LoadedPlugins } from '@memshed/core';
import type { ContainerModule } from '@memshed/core/inversify';

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
  '@memshed/electron',
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

/** Whether `specifier` names a module by path (`./x.js`, `../x`, `/abs/x.js`) rather than by package. */
export function isPathSpecifier(specifier: string): boolean {
  return (
    specifier.startsWith('./') || specifier.startsWith('../') || specifier === '.' || isAbsolute(specifier)
  );
}

/** The ContainerModule a loaded module exports: its default export, or the module itself. */
export function containerModuleOf(loaded: unknown): ContainerModule | undefined {
  const record = loaded as { default?: unknown } | undefined;
  if (isContainerModule(record?.default)) return record.default;
  // An ES module's default seen through CommonJS interop: { default: { default: module } }.
  const nested = (record?.default as { default?: unknown } | undefined)?.default;
  if (isContainerModule(nested)) return nested;
  return isContainerModule(loaded) ? loaded : undefined;
}

/**
 * Loads a plugin package or module path and returns its ContainerModule (the default export).
 * Paths are resolved from `from`; package names from `from`, then from memshed's own location.
 *
 * @throws MemshedError `unknown-plugin` when it cannot be found, `invalid-config` when it does not
 * export a ContainerModule or fails to load.
 */
export function requirePluginModule(name: string, from: string = process.cwd()): ContainerModule {
  const resolved = resolvePluginModule(name, from);
  let loaded: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(resolved);
  } catch (error) {
    throw new MemshedError('invalid-config', `Plugin module '${name}' failed to load`, {
      cause: error,
      fix: `fix the module (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
    });
  }
  return expectContainerModule(name, loaded);
}

/**
 * Like {@link requirePluginModule}, but also loads ES-module plugins that `require` cannot
 * (top-level await, or Node versions without `require(esm)`).
 */
export async function importPluginModule(
  name: string,
  from: string = process.cwd(),
): Promise<ContainerModule> {
  const resolved = resolvePluginModule(name, from);
  let loaded: unknown;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require(resolved);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') {
      throw new MemshedError('invalid-config', `Plugin module '${name}' failed to load`, {
        cause: error,
        fix: `fix the module (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`,
      });
    }
    loaded = await import(resolved);
  }
  return expectContainerModule(name, loaded);
}

function resolvePluginModule(name: string, from: string): string {
  try {
    if (isPathSpecifier(name)) return require.resolve(resolvePath(from, name));
    return require.resolve(name, { paths: [from, __dirname] });
  } catch (error) {
    throw new MemshedError('unknown-plugin', `Plugin module '${name}' cannot be found from ${from}`, {
      cause: error,
      fix: isPathSpecifier(name)
        ? 'fix the path (it is relative to the config file)'
        : `install it (npm install ${name}) or fix the name`,
    });
  }
}

function expectContainerModule(name: string, loaded: unknown): ContainerModule {
  const module = containerModuleOf(loaded);
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
 * this repository, packages not implemented yet, which export nothing).
 */
export function builtinModules(from: string = process.cwd()): ContainerModule[] {
  const modules: ContainerModule[] = [];
  for (const name of BUILTIN_PLUGIN_PACKAGES) {
    try {
      modules.push(requirePluginModule(name, from));
    } catch (error) {
      if (MemshedError.is(error, 'unknown-plugin')) continue;
      if (MemshedError.is(error, 'invalid-config') && isEmptyModule(name, from)) continue;
      throw error;
    }
  }
  return modules;
}

function isEmptyModule(name: string, from: string): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return Object.keys(require(require.resolve(name, { paths: [from, __dirname] })) as object).length === 0;
}

/** The built-in plugins, loaded into a container (nothing created or started). */
export function loadBuiltinPlugins(from?: string): LoadedPlugins {
  return loadPlugins(builtinModules(from));
}
