import { resolve } from 'node:path';
import { MemshedError, knownNamesHint, loadPlugins } from '@memshed/core';
import type { ContainerModule } from '@memshed/core/inversify';
import { describeValue, type ConfigIssue } from './config-error';
import { INLINE, issueAt, pushProblems, sortByPosition, type FileState } from './load-config-files';
import type { ConfigPlugin } from './load-config-types';
import { importPluginModule, isPathSpecifier } from './plugin-modules';
import { checkWithSchema } from './schema-issues';

// Plugins of a config: the built-in and named modules, resolving `use:` ids, checking `with:`.

const ID = /^[a-z0-9][a-z0-9._-]*$/i;

/** The plugins a config can name, and the modules that provide them. */
export interface Registry {
  readonly modules: ContainerModule[];
  readonly all: ConfigPlugin[];
  readonly sources: ConfigPlugin[];
  readonly actions: ConfigPlugin[];
  /** Modules by resolved specifier, so that one module named twice loads once. */
  readonly bySpecifier: Map<string, { module: ContainerModule; plugins: ConfigPlugin[] } | Error>;
}

/** The built-in modules, then those the files list in `plugins:` (loaded once each); clashes are issues. */
export async function buildRegistry(
  builtins: readonly ContainerModule[],
  files: readonly FileState[],
  safe: boolean,
  issues: ConfigIssue[],
): Promise<Registry> {
  const registry: Registry = { modules: [], all: [], sources: [], actions: [], bySpecifier: new Map() };
  for (const module of builtins) addModule(registry, module, 'built-in');
  for (const state of files) {
    const raw = state.document.value as { plugins?: unknown } | undefined;
    if (!raw || typeof raw !== 'object' || !Array.isArray(raw.plugins)) continue;
    for (const [index, specifier] of raw.plugins.entries()) {
      if (typeof specifier !== 'string' || specifier === '') continue;
      const path = ['plugins', index];
      if (safe) {
        issues.push(
          issueAt(state, path, `safe mode loads no plugin modules (they run code): '${specifier}'`, {
            fix: 'Use the built-in plugins only, or drop --safe',
          }),
        );
        continue;
      }
      const loaded = await loadModule(registry, specifier, state.dir);
      if (loaded instanceof Error) {
        issues.push(moduleIssue(state, path, specifier, loaded));
        continue;
      }
      if (loaded.plugins.length === 0) {
        issues.push(
          issueAt(state, path, `plugin module '${specifier}' binds no source or action factory`, {
            fix: 'Bind a PressureSourceFactory or SheddingActionFactory in its ContainerModule',
          }),
        );
      }
      for (const plugin of loaded.plugins) {
        const clash = registry.all.find(
          (other) => other !== plugin && other.kind === plugin.kind && other.id === plugin.id,
        );
        if (clash) {
          issues.push(
            issueAt(
              state,
              path,
              `plugin module '${specifier}' provides ${plugin.kind} '${plugin.id}', which ${clash.origin === 'built-in' ? 'is built in' : `'${clash.origin}' provides already`}`,
              {
                fix: 'Remove one of them: ids must be unique',
              },
            ),
          );
        }
      }
    }
  }
  return registry;
}

function addModule(registry: Registry, module: ContainerModule, origin: string): ConfigPlugin[] {
  const loaded = loadPlugins([module]);
  const plugins: ConfigPlugin[] = [
    ...loaded.sources.map((factory) => ({ kind: 'source' as const, id: factory.id, factory, origin })),
    ...loaded.actions.map((factory) => ({ kind: 'action' as const, id: factory.id, factory, origin })),
  ];
  registry.modules.push(module);
  registry.all.push(...plugins);
  registry.sources.push(...plugins.filter((p) => p.kind === 'source'));
  registry.actions.push(...plugins.filter((p) => p.kind === 'action'));
  return plugins;
}

async function loadModule(
  registry: Registry,
  specifier: string,
  dir: string,
): Promise<{ module: ContainerModule; plugins: ConfigPlugin[] } | Error> {
  const key = isPathSpecifier(specifier) ? resolve(dir, specifier) : specifier;
  const known = registry.bySpecifier.get(key);
  if (known) return known;
  let entry: { module: ContainerModule; plugins: ConfigPlugin[] } | Error;
  try {
    const module = await importPluginModule(specifier, dir);
    const same = [...registry.bySpecifier.values()].find((e) => !(e instanceof Error) && e.module === module);
    entry =
      same && !(same instanceof Error) ? same : { module, plugins: addModule(registry, module, specifier) };
  } catch (error) {
    entry = isErrorLike(error) ? error : new Error(String(error));
  }
  registry.bySpecifier.set(key, entry);
  return entry;
}

function moduleIssue(
  state: FileState,
  path: (string | number)[],
  specifier: string,
  error: Error,
): ConfigIssue {
  if (MemshedError.is(error, 'unknown-plugin')) {
    return issueAt(state, path, `cannot find plugin module '${specifier}'`, {
      kind: 'unknown-plugin',
      fix: isPathSpecifier(specifier)
        ? `Fix the path: it is relative to ${state.document.file === INLINE ? 'the working directory' : 'this file'} (${resolve(state.dir, specifier)})`
        : `Install it (npm install ${specifier}) or fix the name`,
    });
  }
  if (MemshedError.is(error) && /does not default-export/.test(error.message)) {
    return issueAt(state, path, `plugin module '${specifier}' does not export a ContainerModule`, {
      fix: 'Export default new ContainerModule(({ bind }) => ...) binding a PressureSourceFactory or SheddingActionFactory',
    });
  }
  const cause = MemshedError.is(error) && isErrorLike(error.cause) ? error.cause : error;
  return issueAt(
    state,
    path,
    `plugin module '${specifier}' failed to load: ${cause.message.split('\n')[0]}`,
    {
      fix: 'Fix the module',
    },
  );
}

/**
 * The plugin a `use:` names: an id of the right kind, or a module providing exactly one; else an
 * issue with the known ids and a did-you-mean, and undefined.
 */
export async function resolvePlugin(
  state: FileState,
  kind: 'source' | 'action',
  entry: unknown,
  path: (string | number)[],
  registry: Registry,
  safe: boolean,
  issues: ConfigIssue[],
): Promise<ConfigPlugin | undefined> {
  const use = (entry as { use?: unknown } | undefined)?.use;
  if (typeof use !== 'string' || use === '') return undefined; // the shape check reports it
  const usePath = [...path, 'use'];
  const sameKind = kind === 'source' ? registry.sources : registry.actions;
  const direct = sameKind.find((plugin) => plugin.id === use);
  if (direct) return direct;

  if (isPathSpecifier(use) || use.startsWith('@')) {
    if (safe) {
      issues.push(
        issueAt(state, usePath, `safe mode loads no plugin modules (they run code): '${use}'`, {
          fix: 'Use a built-in plugin id, or drop --safe',
        }),
      );
      return undefined;
    }
    const loaded = await loadModule(registry, use, state.dir);
    if (loaded instanceof Error) {
      issues.push(moduleIssue(state, usePath, use, loaded));
      return undefined;
    }
    const provided = loaded.plugins.filter((plugin) => plugin.kind === kind);
    if (provided.length === 1) return provided[0];
    const ids = provided.map((plugin) => plugin.id).join(', ');
    issues.push(
      issueAt(
        state,
        usePath,
        provided.length === 0
          ? `plugin module '${use}' provides no ${kind}${loaded.plugins.length ? ` (it provides ${loaded.plugins.map((p) => `${p.kind} '${p.id}'`).join(', ')})` : ''}`
          : `plugin module '${use}' provides several ${kind}s (${ids})`,
        {
          kind: 'unknown-plugin',
          fix:
            provided.length === 0
              ? `Name a module that provides a ${kind}`
              : `List the module in plugins: and name one by id`,
        },
      ),
    );
    return undefined;
  }

  const other = (kind === 'source' ? registry.actions : registry.sources).find((plugin) => plugin.id === use);
  const known = sameKind.map((plugin) => plugin.id);
  if (other) {
    issues.push(
      issueAt(
        state,
        usePath,
        `'${use}' is ${kind === 'source' ? 'an action' : 'a source'}, not ${kind === 'source' ? 'a source' : 'an action'}`,
        {
          kind: 'unknown-plugin',
          fix: `Known ${kind}s: ${known.length ? [...known].sort().join(', ') : 'none'}`,
        },
      ),
    );
    return undefined;
  }
  const hint = known.length
    ? knownNamesHint(use, known)
    : `No ${kind} plugins are installed: install one (e.g. @memshed/${kind === 'source' ? 'source-psi' : 'action-gc'}) or name a module (./my-${kind}.js).`;
  issues.push(
    issueAt(state, usePath, `unknown ${kind} ${describeValue(use)}`, {
      kind: 'unknown-plugin',
      fix: ID.test(use) ? hint : `${hint} A module path starts with ./ or ../`,
    }),
  );
  return undefined;
}

/** The entry's `with:` checked by the plugin's own schema; problems become issues at `with.*`. */
export function checkOptions(
  state: FileState,
  plugin: ConfigPlugin,
  entry: unknown,
  path: (string | number)[],
  issues: ConfigIssue[],
): { value: unknown } | undefined {
  const given = (entry as { with?: unknown }).with;
  const result = checkWithSchema(plugin.factory.optionsSchema, given);
  if (result.ok) return { value: result.value };
  const base = [...path, 'with'];
  pushProblems(state, base, sortByPosition(state, result.problems, base), issues);
  return undefined;
}

function isErrorLike(value: unknown): value is Error {
  return typeof value === 'object' && value !== null && typeof (value as Error).message === 'string';
}
