import { resolve } from 'node:path';
import { DEFAULT_ACTION_TIMEOUT_MS, DEFAULT_QUIET_MS } from '@memshed/core';
import { toActionSpec, toPolicySpec } from '@memshed/policy';
import { ConfigError, configIssue, joinPath, type ConfigIssue } from './config-error';
import { readConfigFile, type ConfigDocument } from './config-loaders';
import { discoverConfig, notFoundError, projectRoot } from './discover-config';
import { INLINE, inFileOrder, issueAt, parseShape, readImports, type FileState } from './load-config-files';
import { buildRegistry, checkOptions, resolvePlugin, type Registry } from './load-config-plugins';
import type {
  LoadConfigOptions,
  LoadedConfig,
  ResolvedAction,
  ResolvedPolicy,
  ResolvedSource,
} from './load-config-types';
import { builtinModules } from './plugin-modules';

// Loading a config, in three steps: read the files and check their shape (load-config-files.ts),
// resolve and check the plugins they name (load-config-plugins.ts), then merge the files into one
// config (here).

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
        optional: state.parsed?.sources?.[index]?.optional ?? false,
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
