import { relative, isAbsolute, sep } from 'node:path';
import { MemshedError, type MemshedErrorKind } from '@memshed/core';

export { describeValue } from '@memshed/options';

/** Where a problem is in a config file, 1-based. */
export interface SourcePosition {
  /** Line, from 1. */
  readonly line: number;
  /** Column, from 1. */
  readonly column: number;
}

/**
 * One problem in a config: `<file>: <path>: <what>. <fix>` (or `<file>:<line>:<column>: ...` for a
 * syntax error, which has no key path).
 */
export interface ConfigIssue {
  /** `invalid-config` for shape and syntax problems, `unknown-plugin` for ids and plugin modules. */
  readonly kind: Extract<MemshedErrorKind, 'invalid-config' | 'unknown-plugin'>;
  /** The file as shown to the user: relative to the working directory when below it. */
  readonly file: string;
  /** The key path inside the file, e.g. `policies[0].do[1].use`; empty for the whole file. */
  readonly path: string;
  /** What is wrong, e.g. `unknown action 'cache-prge'`. */
  readonly problem: string;
  /** What to do about it, e.g. `Known: cache-purge, gc. Did you mean 'cache-purge'?`. */
  readonly fix?: string;
  /** Where the key (or the syntax error) is, when the file format tells. */
  readonly position?: SourcePosition;
  /** The whole line, as printed: `<file>: <path>: <problem>. <fix>`. */
  readonly message: string;
}

/** Builds a {@link ConfigIssue}, composing its message. */
export function configIssue(
  file: string,
  path: string,
  problem: string,
  options: { fix?: string; position?: SourcePosition; kind?: ConfigIssue['kind']; syntax?: boolean } = {},
): ConfigIssue {
  const where =
    options.syntax && options.position ? `${file}:${options.position.line}:${options.position.column}` : file;
  const head = path ? `${where}: ${path}: ${problem}` : `${where}: ${problem}`;
  return {
    kind: options.kind ?? 'invalid-config',
    file,
    path,
    problem,
    ...(options.fix ? { fix: options.fix } : {}),
    ...(options.position ? { position: options.position } : {}),
    message: options.fix ? `${endSentence(head)} ${options.fix}` : head,
  };
}

function endSentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

/**
 * A config that cannot be used: every problem found, each naming the file, the key path and the
 * fix. The message is one line per problem. `kind` is the first problem's (`invalid-config` or
 * `unknown-plugin`); the CLI exits with code 2 for both.
 *
 * @example
 * .memshedrc.yaml: policies[0].do[1].use: unknown action 'cache-prge'. Known: cache-purge, gc, service-shutdown. Did you mean 'cache-purge'?
 */
export class ConfigError extends MemshedError {
  /** Every problem found, in file order. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: { cause?: unknown } = {}) {
    if (issues.length === 0) throw new TypeError('ConfigError needs at least one issue');
    super(issues[0].kind, issues.map((issue) => issue.message).join('\n'), {
      cause: options.cause,
      context: { file: issues[0].file, path: issues[0].path, issues },
    });
    this.name = 'ConfigError';
    this.issues = Object.freeze([...issues]);
    // The fix is already part of each line; keep it machine-readable as well.
    Object.defineProperty(this, 'fix', { value: issues[0].fix, enumerable: true });
  }

  /** Whether `value` is a ConfigError (also across copies of the package). */
  static isConfigError(value: unknown): value is ConfigError {
    return MemshedError.is(value) && Array.isArray((value as Partial<ConfigError>).issues);
  }
}

/** A path as shown in messages: relative to `cwd` when below it, else absolute. */
export function displayPath(file: string, cwd: string = process.cwd()): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : file;
}

/** `['policies', 0, 'do']` -> `policies[0].do`. */
export function joinPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}
