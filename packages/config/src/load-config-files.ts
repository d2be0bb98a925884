import { dirname, resolve } from 'node:path';
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
import { checkWithSchema, type SchemaProblem } from './schema-issues';

// Reading a config: the root file and its `$import`s, their shape, and issues at their key paths.

/** The name a config given as an object has in messages. */
export const INLINE = '<config object>';

/** One file of a config, read; `parsed` once its shape is checked. */
export interface FileState {
  readonly document: ConfigDocument;
  readonly dir: string;
  parsed: MemshedConfigFile | undefined;
}

/** Reads `$import`ed files depth-first; returns them in merge order, the root last. */
export async function readImports(
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

/** An issue at `path` of a file (below its prefix), with the line and column when the format tells. */
export function issueAt(
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

/** Adds a schema's problems, found at `base` in a file, as issues. */
export function pushProblems(
  state: FileState,
  base: readonly (string | number)[],
  problems: readonly SchemaProblem[],
  issues: ConfigIssue[],
) {
  for (const problem of problems) {
    issues.push(issueAt(state, [...base, ...problem.path], problem.problem, { fix: problem.fix }));
  }
}

/** Checks a file's shape against the config schema; sets `state.parsed` when it holds. */
export function parseShape(state: FileState, issues: ConfigIssue[]): void {
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
export function sortByPosition(
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

/** Issues by file (imports first, as merged), then by line; those without a line keep their order. */
export function inFileOrder(issues: readonly ConfigIssue[], files: readonly FileState[]): ConfigIssue[] {
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
