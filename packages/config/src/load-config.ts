import { dirname, resolve } from 'node:path';
import {
  DEFAULT_ACTION_TIMEOUT_MS,
  DEFAULT_QUIET_MS,
  MemshedError,
  loadPlugins,
  type PressureSourceFactory,
  type SheddingActionFactory,
} from '@memshed/core';
import type { ContainerModule } from '@memshed/core/inversify';
import { toActionSpec, toPolicySpec, type PolicyActionSpec, type PolicySpec } from '@memshed/policy';
import {
  ConfigError,
  configIssue,
  describeValue,
  displayPath,
  joinPath,
  type ConfigIssue,
} from './config-error';
import { formatOf, readConfigFile, type ConfigDocument } from './config-loaders';
import { configFileSchema, type MemshedConfigFile } from './config-schema';
import { discoverConfig, notFoundError, projectRoot, type DiscoverOptions } from './discover-config';
import { builtinModules, importPluginModule, isPathSpecifier } from './plugin-modules';
import { checkWithSchema, type SchemaProblem } from './schema-issues';
import { knownNamesHint } from './suggest';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions extends DiscoverOptions {
  /**
   * The config: a file path (relative to `cwd`), or the config object itself. Default: discovered
   * with cosmiconfig from `cwd`.
   */
  readonly config?: string | object;
  /**
   * The plugin modules that provide the ids config files name. Default: the installed built-in
   * plugins. Modules named in config (`plugins:`, `use: ./x.js`) are added to them.
   */
  readonly modules?: readonly ContainerModule[];
}

/** A plugin a config can name, and where it comes from. */
export interface ConfigPlugin {
  /** `source` or `action`. */
  readonly kind: 'source' | 'action';
  /** The id used in config. */
  readonly id: string;
  /** Its factory: description, options schema, create(). */
  readonly factory: PressureSourceFactory | SheddingActionFactory;
  /** `built-in`, or the module specifier that provided it. */
  readonly origin: string;
}

/** Where an entry was written: the file and its key path there. */
export interface ConfigLocation {
  /** The file as shown in messages. */
  readonly file: string;
  /** The key path in that file, e.g. `policies[0]`. */
  readonly path: string;
}

/** A source entry, resolved and validated. */
export interface ResolvedSource extends ConfigLocation {
  /** The plugin id. */
  readonly use: string;
  /** The options as validated by the plugin's schema (defaults applied). */
  readonly options: unknown;
  /** The options as written, for `createMemshed` (which validates them again). */
  readonly with: unknown;
}

/** An action of a policy's chain, resolved and validated. */
export interface ResolvedAction extends PolicyActionSpec, ConfigLocation {
  /** The options as written. */
  readonly with: unknown;
}

/** A policy, resolved: durations in ms, actions resolved. */
export interface ResolvedPolicy extends PolicySpec, ConfigLocation {
  /** The chain. */
  readonly do: readonly ResolvedAction[];
}

/** A config found, parsed, validated and resolved against the plugins: ready to start. */
export interface LoadedConfig {
  /** The root file (absolute), or undefined for a config object. */
  readonly filepath: string | undefined;
  /** The root file as shown in messages. */
  readonly file: string;
  /** Every file read, the root first, then the imports in merge order. */
  readonly files: readonly string[];
  /** The plugin modules to load: the built-ins given, then those the config names. */
  readonly modules: readonly ContainerModule[];
  /** Every plugin the config can name. */
  readonly plugins: readonly ConfigPlugin[];
  /** The sources, in order. */
  readonly sources: readonly ResolvedSource[];
  /** How the state recovers. */
  readonly recovery: { readonly quiet: number; readonly renotify?: number; readonly scope: string };
  /** The policies, in order. */
  readonly policies: readonly ResolvedPolicy[];
  /** Dry run for every policy that does not say. */
  readonly dryRun: boolean;
  /** Default time budget of an action (ms). */
  readonly actionTimeout: number;
}

const INLINE = '<config object>';
const ID = /^[a-z0-9][a-z0-9._-]*$/i;

interface FileState {
  readonly document: ConfigDocument;
  readonly dir: string;
  parsed: MemshedConfigFile | undefined;
}

/**
 * Finds (or reads) a config, parses it, checks its shape and every plugin's options, and resolves
 * plugin ids, without creating or starting anything. Every problem is reported at once.
 *
 * @throws ConfigError listing every problem, each naming the file, the key path and the fix.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const safe = options.safe ?? false;
  let root: ConfigDocument;
  if (options.config === undefined) {
    const found = await discoverConfig({ ...options, cwd });
    if (!found) throw notFoundError(cwd, safe, options.stopDir ?? projectRoot(cwd));
    root = found;
  } else if (typeof options.config === 'string') {
    root = await readConfigFile(resolve(cwd, options.config), { safe, cwd });
  } else {
    root = {
      filepath: resolve(cwd, INLINE),
      file: INLINE,
      format: 'javascript',
      value: options.config,
      prefix: [],
      locate: () => undefined,
    };
  }

  const issues: ConfigIssue[] = [];
  const files = await readImports(root, { safe, cwd }, issues);
  const rootState = files[files.length - 1];

  for (const state of files) parseShape(state, issues);
  const registry = await buildRegistry(options.modules ?? builtinModules(cwd), files, safe, issues);
  const resolved = new Map<FileState, { sources: ResolvedSource[]; policies: ResolvedPolicy[] }>();
  for (const state of files)
    resolved.set(state, await resolveFile(state, state === rootState, registry, safe, issues));

  // Merge: imports first, in order, then the file that imports them; later scalars win.
  const sources = files.flatMap((state) => resolved.get(state)?.sources ?? []);
  const policies = files.flatMap((state) => resolved.get(state)?.policies ?? []);
  let recovery = { quiet: DEFAULT_QUIET_MS, scope: '/' } as LoadedConfig['recovery'];
  let dryRun = false;
  let actionTimeout = DEFAULT_ACTION_TIMEOUT_MS;
  for (const state of files) {
    const raw = state.document.value as Record<string, unknown> | undefined;
    const parsed = state.parsed;
    if (!parsed || !raw) continue;
    if (parsed.recovery) {
      const given = raw.recovery as Record<string, unknown>;
      recovery = {
        quiet: 'quiet' in given ? parsed.recovery.quiet : recovery.quiet,
        scope: 'scope' in given ? parsed.recovery.scope : recovery.scope,
        ...(parsed.recovery.renotify !== undefined
          ? { renotify: parsed.recovery.renotify }
          : recovery.renotify !== undefined
            ? { renotify: recovery.renotify }
            : {}),
      };
    }
    if (parsed.dryRun !== undefined) dryRun = parsed.dryRun;
    if (parsed.actionTimeout !== undefined) actionTimeout = parsed.actionTimeout;
  }

  if (issues.length === 0) {
    if (sources.length === 0) {
      issues.push(
        issueAt(rootState, ['sources'], 'no source is configured: memshed has nothing to watch', {
          fix: `Add one, e.g. sources: [{ use: ${registry.sources[0]?.id ?? 'psi'} }] (run memshed doctor to see which work here)`,
        }),
      );
    }
    const seen = new Map<string, ResolvedPolicy>();
    for (const policy of policies) {
      const first = seen.get(policy.name);
      if (first) {
        issues.push(
          configIssue(policy.file, `${policy.path}.name`, `duplicate policy name '${policy.name}'`, {
            fix: `${first.file === policy.file ? '' : `${first.file}: `}${first.path} has it already. Give each policy its own name`,
          }),
        );
      } else seen.set(policy.name, policy);
    }
  }
  if (issues.length > 0) throw new ConfigError(inFileOrder(issues, files));

  return {
    filepath: options.config !== undefined && typeof options.config !== 'string' ? undefined : root.filepath,
    file: root.file,
    files: [root.file, ...files.slice(0, -1).map((state) => state.document.file)],
    modules: registry.modules,
    plugins: registry.all,
    sources,
    recovery,
    policies,
    dryRun,
    actionTimeout,
  };
}

/** Reads `$import`ed files depth-first; returns them in merge order, the root last. */
async function readImports(
  root: ConfigDocument,
  options: { safe: boolean; cwd: string },
  issues: ConfigIssue[],
): Promise<FileState[]> {
  const order: FileState[] = [];
  const done = new Set<string>();
  const visit = async (document: ConfigDocument, stack: readonly string[]) => {
    const state: FileState = { document, dir: dirname(document.filepath), parsed: undefined };
    const value = document.value as Record<string, unknown> | undefined;
    const imports = value && typeof value === 'object' && !Array.isArray(value) ? value.$import : undefined;
    const list = typeof imports === 'string' ? [imports] : Array.isArray(imports) ? imports : [];
    for (const [index, target] of list.entries()) {
      if (typeof target !== 'string' || target === '') continue; // the shape check reports it
      const path: (string | number)[] = Array.isArray(imports) ? ['$import', index] : ['$import'];
      const filepath = resolve(state.dir, target);
      const at = (problem: string, fix?: string) => issues.push(issueAt(state, path, problem, { fix }));
      if (stack.includes(filepath)) {
        const cycle = [...stack.slice(stack.indexOf(filepath)), filepath].map((f) =>
          displayPath(f, options.cwd),
        );
        at(`circular import: ${cycle.join(' -> ')}`, 'Remove one of the imports');
        continue;
      }
      if (done.has(filepath)) continue;
      const format = formatOf(filepath);
      if (format !== 'json' && format !== 'yaml') {
        at(`cannot import ${describeValue(target)}: only JSON and YAML files can be imported`);
        continue;
      }
      let imported: ConfigDocument;
      try {
        imported = await readConfigFile(filepath, options);
      } catch (error) {
        if (!ConfigError.isConfigError(error)) throw error;
        if (error.issues[0].problem === 'no such file')
          at(`cannot import ${describeValue(target)}: no such file`, 'Fix the path (relative to this file)');
        else issues.push(...error.issues);
        continue;
      }
      await visit(imported, [...stack, filepath]);
    }
    done.add(document.filepath);
    order.push(state);
  };
  await visit(root, [root.filepath]);
  return order;
}

function issueAt(
  state: FileState,
  path: readonly (string | number)[],
  problem: string,
  options: { fix?: string; kind?: ConfigIssue['kind'] } = {},
): ConfigIssue {
  return configIssue(state.document.file, joinPath([...state.document.prefix, ...path]), problem, {
    ...options,
    position: state.document.locate(path),
  });
}

function pushProblems(
  state: FileState,
  base: readonly (string | number)[],
  problems: readonly SchemaProblem[],
  issues: ConfigIssue[],
) {
  for (const problem of problems) {
    issues.push(issueAt(state, [...base, ...problem.path], problem.problem, { fix: problem.fix }));
  }
}

function parseShape(state: FileState, issues: ConfigIssue[]): void {
  const value = state.document.value;
  if (value === undefined || value === null) {
    issues.push(issueAt(state, [], 'the config is empty', { fix: 'Add at least sources: [{ use: psi }]' }));
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    issues.push(
      issueAt(
        state,
        [],
        `the config must be an object of keys (sources, policies, ...), got ${describeValue(value)}`,
      ),
    );
    return;
  }
  const result = checkWithSchema(configFileSchema, value);
  if (result.ok) state.parsed = result.value;
  else pushProblems(state, [], sortByPosition(state, result.problems), issues);
}

/** Problems in the order of the file, when it has positions; else as found. */
function sortByPosition(
  state: FileState,
  problems: SchemaProblem[],
  base: readonly (string | number)[] = [],
): SchemaProblem[] {
  const line = (problem: SchemaProblem) =>
    state.document.locate([...base, ...problem.path])?.line ?? Infinity;
  return problems
    .map((p, i) => ({ p, i, line: line(p) }))
    .sort((a, b) => a.line - b.line || a.i - b.i)
    .map(({ p }) => p);
}

interface Registry {
  readonly modules: ContainerModule[];
  readonly all: ConfigPlugin[];
  readonly sources: ConfigPlugin[];
  readonly actions: ConfigPlugin[];
  /** Modules by resolved specifier, so that one module named twice loads once. */
  readonly bySpecifier: Map<string, { module: ContainerModule; plugins: ConfigPlugin[] } | Error>;
}

async function buildRegistry(
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

async function resolveFile(
  state: FileState,
  isRoot: boolean,
  registry: Registry,
  safe: boolean,
  issues: ConfigIssue[],
): Promise<{ sources: ResolvedSource[]; policies: ResolvedPolicy[] }> {
  const raw = state.document.value as Record<string, unknown> | undefined;
  const sources: ResolvedSource[] = [];
  const policies: ResolvedPolicy[] = [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return { sources, policies };
  const count = issues.length;

  const rawSources = Array.isArray(raw.sources) ? raw.sources : [];
  for (const [index, entry] of rawSources.entries()) {
    const path = ['sources', index];
    const plugin = await resolvePlugin(state, 'source', entry, path, registry, safe, issues);
    const options = plugin && checkOptions(state, plugin, entry, path, issues);
    if (plugin && options) {
      sources.push({
        file: state.document.file,
        path: joinPath([...state.document.prefix, ...path]),
        use: plugin.id,
        options: options.value,
        with: (entry as { with?: unknown }).with,
      });
    }
  }

  const rawPolicies = Array.isArray(raw.policies) ? raw.policies : [];
  for (const [index, policy] of rawPolicies.entries()) {
    const steps = (policy as { do?: unknown } | undefined)?.do;
    const actions: ResolvedAction[] = [];
    for (const [step, entry] of (Array.isArray(steps) ? steps : []).entries()) {
      const path = ['policies', index, 'do', step];
      const plugin = await resolvePlugin(state, 'action', entry, path, registry, safe, issues);
      const options = plugin && checkOptions(state, plugin, entry, path, issues);
      const parsedStep = state.parsed?.policies?.[index]?.do[step];
      if (plugin && options && parsedStep) {
        actions.push({
          file: state.document.file,
          path: joinPath([...state.document.prefix, ...path]),
          with: (entry as { with?: unknown }).with,
          ...toActionSpec(parsedStep, plugin.id, options.value),
        });
      }
    }
    const parsed = state.parsed?.policies?.[index];
    if (parsed) {
      const path = joinPath([...state.document.prefix, 'policies', index]);
      policies.push({
        file: state.document.file,
        path,
        ...toPolicySpec(parsed, parsed.name ?? (isRoot ? path : `${state.document.file}:${path}`), actions),
      });
    }
  }
  if (issues.length > count) return { sources: [], policies: [] };
  return { sources, policies };
}

async function resolvePlugin(
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

function checkOptions(
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

/** Issues by file (imports first, as merged), then by line; those without a line keep their order. */
function inFileOrder(issues: readonly ConfigIssue[], files: readonly FileState[]): ConfigIssue[] {
  const rank = new Map(files.map((state, index) => [state.document.file, index]));
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort(
      (a, b) =>
        (rank.get(a.issue.file) ?? -1) - (rank.get(b.issue.file) ?? -1) ||
        (a.issue.position?.line ?? Infinity) - (b.issue.position?.line ?? Infinity) ||
        a.index - b.index,
    )
    .map(({ issue }) => issue);
}
