import {
  LineCounter,
  parseDocument,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Document,
  type Node as YamlNode,
} from '@memshed/options/yaml';
import { ConfigError, configIssue, joinPath, type ConfigIssue, type SourcePosition } from './config-error';

/** A YAML config parsed: its value, and a way back from key paths to lines. */
export interface YamlConfig {
  /** The whole document as plain data. */
  readonly value: unknown;
  /** Where a key path (below `prefix`) is in the file. */
  locate(path: readonly (string | number)[]): SourcePosition | undefined;
}

/**
 * Parses a YAML config file (JSON is YAML too). A duplicate key is reported at its key path with the
 * line of the first one (yaml's own message names neither); other syntax errors at their line.
 *
 * @throws ConfigError naming the file, the line and column, and for a duplicate key the key path.
 */
export function parseYamlConfig(file: string, content: string, prefix: readonly string[]): YamlConfig {
  const lineCounter = new LineCounter();
  const document = parseDocument(content, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const error = document.errors[0];
  if (error) {
    const duplicate =
      error.code === 'DUPLICATE_KEY'
        ? duplicateKeyIssue(file, document, lineCounter, error.pos[0])
        : undefined;
    if (duplicate) throw new ConfigError([duplicate]);
    const { line, col: column } = lineCounter.linePos(error.pos[0]);
    const problem = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError([syntaxIssue(file, 'YAML', lowerFirst(problem), { line, column })]);
  }
  let value: unknown;
  try {
    value = document.toJS({ maxAliasCount: 1000 });
  } catch (cause) {
    throw new ConfigError(
      [syntaxIssue(file, 'YAML', lowerFirst((cause as Error).message), { line: 1, column: 1 })],
      { cause },
    );
  }
  return { value, locate: (path) => locateInDocument(document, lineCounter, [...prefix, ...path]) };
}

/** A syntax problem: `<file>:<line>:<column>: <language> syntax error: <problem>. Fix the file at line N`. */
export function syntaxIssue(file: string, language: string, problem: string, position: SourcePosition) {
  return configIssue(file, '', `${language} syntax error: ${problem}`, {
    position,
    syntax: true,
    fix: `Fix the file at line ${position.line}`,
  });
}

/** `Map keys must be unique` -> `map keys must be unique` (leaves `JSON ...` alone). */
export function lowerFirst(text: string): string {
  return text.replace(/^[A-Z](?![A-Z])/, (c) => c.toLowerCase());
}

/** A locator for a JSON file's key paths: its text read as YAML, parsed on first use only. */
export function yamlLocator(
  content: string,
  prefix: readonly string[],
): (path: readonly (string | number)[]) => SourcePosition | undefined {
  let cached: { document: Document; lineCounter: LineCounter } | undefined;
  return (path) => {
    if (!cached) {
      const lineCounter = new LineCounter();
      cached = { document: parseDocument(content, { lineCounter }), lineCounter };
    }
    return locateInDocument(cached.document, cached.lineCounter, [...prefix, ...path]);
  };
}

/**
 * The duplicate key whose second occurrence starts at `offset` (yaml's error position), as
 * `<file>:<line>:<column>: policies[0].when.level: duplicate key 'level' (first at line 5). Fix:
 * keep one`; undefined when it cannot be found (then yaml's message is shown).
 */
function duplicateKeyIssue(
  file: string,
  document: Document,
  lineCounter: LineCounter,
  offset: number,
): ConfigIssue | undefined {
  const found = findDuplicate(document.contents, [], offset);
  if (!found) return undefined;
  const position = rangeStart(found.second, lineCounter);
  const first = rangeStart(found.first, lineCounter);
  if (!position || !first) return undefined;
  return configIssue(
    file,
    joinPath(found.path),
    `duplicate key '${found.key}' (first at line ${first.line})`,
    { position, syntax: true, fix: 'Fix: keep one' },
  );
}

interface Duplicate {
  readonly key: string;
  readonly path: readonly (string | number)[];
  readonly first: unknown;
  readonly second: unknown;
}

function findDuplicate(
  node: unknown,
  path: readonly (string | number)[],
  offset: number,
): Duplicate | undefined {
  if (isMap(node)) {
    const seen = new Map<unknown, unknown>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? pair.key.value : undefined;
      if (key !== undefined && seen.has(key) && (pair.key as YamlNode).range?.[0] === offset) {
        return { key: String(key), path: [...path, String(key)], first: seen.get(key), second: pair.key };
      }
      if (key !== undefined && !seen.has(key)) seen.set(key, pair.key);
      const inner = findDuplicate(pair.value, key === undefined ? path : [...path, String(key)], offset);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (const [index, item] of node.items.entries()) {
      const inner = findDuplicate(item, [...path, index], offset);
      if (inner) return inner;
    }
  }
  return undefined;
}

/** The position of the deepest existing node on `path`: the key for a map entry, else the value. */
function locateInDocument(
  document: Document,
  lineCounter: LineCounter,
  path: readonly (string | number)[],
): SourcePosition | undefined {
  let node: unknown = document.contents;
  let position: SourcePosition | undefined = rangeStart(node, lineCounter);
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
      );
      if (!pair) break;
      position = rangeStart(pair.key, lineCounter) ?? position;
      node = pair.value;
    } else if (node && typeof node === 'object' && 'items' in node && typeof segment === 'number') {
      const item = (node as { items: unknown[] }).items[segment];
      if (item === undefined) break;
      position = rangeStart(item, lineCounter) ?? position;
      node = item;
    } else break;
  }
  return position;
}

function rangeStart(node: unknown, lineCounter: LineCounter): SourcePosition | undefined {
  const range = (node as YamlNode | undefined)?.range;
  if (!range) return undefined;
  const { line, col } = lineCounter.linePos(range[0]);
  return { line, column: col };
}
