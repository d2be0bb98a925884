import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import Module, { createRequire } from 'node:module';
import { basename, dirname, extname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, configIssue, displayPath, type SourcePosition } from './config-error';
import { findJsonSyntaxError, positionAt } from './json-syntax';
import { lowerFirst, parseYamlConfig, syntaxIssue, yamlLocator } from './yaml-config';

/** The formats a config file can be written in. */
export type ConfigFormat = 'json' | 'yaml' | 'javascript' | 'typescript';

/** A config file read and parsed, with a way back from key paths to lines. */
export interface ConfigDocument {
  /** Absolute path. */
  readonly filepath: string;
  /** As shown in messages. */
  readonly file: string;
  /** How it was read. */
  readonly format: ConfigFormat;
  /** The config value (for package.json: the `memshed` key). */
  readonly value: unknown;
  /** The key path prefix in the file: `memshed` in package.json, else empty. */
  readonly prefix: readonly string[];
  /** Where a key path is in the file, for JSON and YAML files. */
  locate(path: readonly (string | number)[]): SourcePosition | undefined;
}

/** Extensions whose files run code when loaded. */
export const CODE_EXTENSIONS: readonly string[] = Object.freeze([
  '.js',
  '.cjs',
  '.mjs',
  '.ts',
  '.cts',
  '.mts',
]);

/** The format of a file by its name: `.memshedrc` (no extension) is YAML, which also reads JSON. */
export function formatOf(filepath: string): ConfigFormat | undefined {
  const extension = extname(filepath);
  if (extension === '.json') return 'json';
  if (extension === '.yaml' || extension === '.yml' || extension === '') return 'yaml';
  if (extension === '.js' || extension === '.cjs' || extension === '.mjs') return 'javascript';
  if (extension === '.ts' || extension === '.cts' || extension === '.mts') return 'typescript';
  return undefined;
}

/** Options of {@link parseConfigFile}. */
export interface ParseOptions {
  /** Refuse files that run code (JavaScript, TypeScript). */
  readonly safe?: boolean;
  /** For messages. Default: the process's. */
  readonly cwd?: string;
}

/** Reads and parses a config file by its extension. Throws a {@link ConfigError} naming the file and line. */
export async function readConfigFile(filepath: string, options: ParseOptions = {}): Promise<ConfigDocument> {
  let content: string;
  try {
    content = await readFile(filepath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const file = displayPath(filepath, options.cwd);
    throw new ConfigError(
      [
        configIssue(
          file,
          '',
          code === 'ENOENT' ? 'no such file' : `cannot read it: ${(error as Error).message}`,
          {
            fix: code === 'ENOENT' ? 'Check the path' : undefined,
          },
        ),
      ],
      { cause: error },
    );
  }
  return parseConfigFile(filepath, content, options);
}

/**
 * Parses the content of a config file by its extension: JSON strictly, YAML 1.2 (which also reads
 * JSON), JavaScript by running it (CommonJS with Node's loader, ES modules with `import()`), and
 * TypeScript by transpiling it with the `typescript` package found next to the file (or Node's own
 * type stripping where it has it). A JavaScript config may export a value, a promise or a function
 * returning either.
 */
export async function parseConfigFile(
  filepath: string,
  content: string,
  options: ParseOptions = {},
): Promise<ConfigDocument> {
  const file = displayPath(filepath, options.cwd);
  const format = formatOf(filepath);
  const isPackageJson = basename(filepath) === 'package.json';
  const prefix = isPackageJson ? ['memshed'] : [];
  if (format === undefined) {
    throw new ConfigError([
      configIssue(file, '', `unsupported config file extension '${extname(filepath)}'`, {
        fix: 'Use .json, .yaml, .yml, .js, .cjs, .mjs or .ts',
      }),
    ]);
  }
  if (options.safe && (format === 'javascript' || format === 'typescript')) {
    throw new ConfigError([
      configIssue(
        file,
        '',
        `safe mode loads no ${format === 'javascript' ? 'JavaScript' : 'TypeScript'} config (it would run code)`,
        {
          fix: 'Write the config as .memshedrc.json or .memshedrc.yaml, or drop --safe',
        },
      ),
    ]);
  }
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      const { offset, problem } = findJsonSyntaxError(content);
      throw new ConfigError([syntaxIssue(file, 'JSON', problem, positionAt(content, offset))], {
        cause: error,
      });
    }
    const located = yamlLocator(content, prefix);
    return { filepath, file, format, value: select(value, prefix), prefix, locate: located };
  }
  if (format === 'yaml') {
    const { value, locate } = parseYamlConfig(file, content, prefix);
    return { filepath, file, format, value: select(value, prefix), prefix, locate };
  }
  const value =
    format === 'typescript'
      ? await runTypeScript(filepath, file, content)
      : await runJavaScript(filepath, file, content);
  return { filepath, file, format, value, prefix, locate: () => undefined };
}

function select(value: unknown, prefix: readonly string[]): unknown {
  let current = value;
  for (const key of prefix)
    current =
      typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[key] : undefined;
  return current;
}

async function runJavaScript(filepath: string, file: string, content: string): Promise<unknown> {
  const esm = filepath.endsWith('.mjs') || (filepath.endsWith('.js') && looksLikeEsm(content));
  let exported: unknown;
  try {
    exported = esm ? await importModule(filepath) : compileCommonJs(filepath, content);
  } catch (error) {
    throw codeError(filepath, file, 'JavaScript', error, esm);
  }
  return settleExport(exported, file);
}

async function runTypeScript(filepath: string, file: string, content: string): Promise<unknown> {
  const typescript = findTypeScript(filepath);
  if (!typescript) {
    if ((process.features as { typescript?: unknown }).typescript) {
      try {
        return await settleExport(await importModule(filepath), file);
      } catch (error) {
        throw codeError(filepath, file, 'TypeScript', error, true);
      }
    }
    throw new ConfigError([
      configIssue(file, '', 'cannot load a TypeScript config: the typescript package is not installed here', {
        fix: 'Install it (npm install --save-dev typescript), or write the config in JSON, YAML or JavaScript',
      }),
    ]);
  }
  const output = typescript.transpileModule(content, {
    fileName: filepath,
    reportDiagnostics: true,
    compilerOptions: {
      module: typescript.ModuleKind.CommonJS,
      target: typescript.ScriptTarget.ES2022,
      esModuleInterop: true,
      sourceMap: false,
    },
  });
  const diagnostic = output.diagnostics?.find((d) => d.category === typescript.DiagnosticCategory.Error);
  if (diagnostic) {
    const position = positionAt(content, diagnostic.start ?? 0);
    const text = typescript.flattenDiagnosticMessageText(diagnostic.messageText, ' ');
    throw new ConfigError([syntaxIssue(file, 'TypeScript', lowerFirst(text), position)]);
  }
  let exported: unknown;
  try {
    exported = compileCommonJs(filepath, output.outputText);
  } catch (error) {
    throw codeError(filepath, file, 'TypeScript', error, false);
  }
  return settleExport(exported, file);
}

interface TypeScriptApi {
  transpileModule(
    input: string,
    options: { fileName: string; reportDiagnostics: boolean; compilerOptions: Record<string, unknown> },
  ): { outputText: string; diagnostics?: { category: number; start?: number; messageText: unknown }[] };
  flattenDiagnosticMessageText(message: unknown, newLine: string): string;
  ModuleKind: { CommonJS: number };
  ScriptTarget: { ES2022: number };
  DiagnosticCategory: { Error: number };
}

function findTypeScript(filepath: string): TypeScriptApi | undefined {
  // The project's own TypeScript first (the config is part of it), then the one next to memshed.
  for (const from of [filepath, __filename]) {
    try {
      return createRequire(from)('typescript') as TypeScriptApi;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

function looksLikeEsm(content: string): boolean {
  return /^\s*(?:import\s[^(]|import\{|export\s|export\{)/m.test(content);
}

/** Runs CommonJS source as Node would, with the file's own `require` (not a test runner's). */
function compileCommonJs(filepath: string, source: string): unknown {
  const NodeModule = Module as unknown as {
    new (
      id: string,
      parent?: unknown,
    ): {
      filename: string;
      paths: string[];
      exports: unknown;
      _compile(code: string, filename: string): void;
    };
    _nodeModulePaths(dir: string): string[];
  };
  const module = new NodeModule(filepath);
  module.filename = filepath;
  module.paths = NodeModule._nodeModulePaths(dirname(filepath));
  module._compile(source, filepath);
  return module.exports;
}

async function importModule(filepath: string): Promise<unknown> {
  // An absolute path is a valid specifier on POSIX; a file URL is needed on Windows.
  const specifier = process.platform === 'win32' ? pathToFileURL(filepath).href : filepath;
  const namespace = (await import(specifier)) as Record<string, unknown>;
  return namespace;
}

async function settleExport(exported: unknown, file: string): Promise<unknown> {
  let value = exported;
  const record = value as Record<string, unknown> | undefined;
  if (
    record &&
    typeof record === 'object' &&
    'default' in record &&
    (record.__esModule || isNamespace(record))
  ) {
    value = record.default;
  }
  try {
    if (typeof value === 'function') value = await (value as () => unknown)();
    return await value;
  } catch (error) {
    throw new ConfigError(
      [
        configIssue(
          file,
          '',
          `the exported config function failed: ${isErrorLike(error) ? error.message : String(error)}`,
        ),
      ],
      { cause: error },
    );
  }
}

function isNamespace(value: object): boolean {
  return Object.prototype.toString.call(value) === '[object Module]';
}

function codeError(
  filepath: string,
  file: string,
  language: string,
  error: unknown,
  esm: boolean,
): ConfigError {
  const message = isErrorLike(error) ? error.message : String(error);
  // An ES module that failed may have failed to parse (a test runner's transform error need not
  // be a SyntaxError): `node --check` tells.
  const located = esm || isSyntaxError(error) ? syntaxPosition(filepath, error as Error, esm) : undefined;
  if (located) {
    const problem = located.problem ?? firstLine(message);
    return new ConfigError([syntaxIssue(file, language, lowerFirst(problem), located.position)], {
      cause: error,
    });
  }
  // Lines of transpiled TypeScript are not the file's.
  const where = isErrorLike(error) && language === 'JavaScript' ? throwLocation(filepath, error) : undefined;
  return new ConfigError(
    [
      configIssue(
        file,
        '',
        `running the config failed${where ? ` at line ${where.line}` : ''}: ${firstLine(message)}`,
        {
          fix: 'Fix the code, or write the config in JSON or YAML',
          position: where,
        },
      ),
    ],
    { cause: error },
  );
}

// Errors thrown by code run with Node's own loader come from another realm than a test runner's:
// duck-type them rather than `instanceof Error`.
function isErrorLike(error: unknown): error is Error {
  return typeof error === 'object' && error !== null && typeof (error as Error).message === 'string';
}

function isSyntaxError(error: unknown): boolean {
  return (
    isErrorLike(error) &&
    (error.name === 'SyntaxError' || /SyntaxError/.test(String(error.stack).split('\n')[0] ?? ''))
  );
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '') ?? text;
}

/**
 * V8 puts `file:line` on the first line of a CommonJS SyntaxError's stack. An ES module's
 * SyntaxError from `import()` has no position on Node 20, so ask `node --check`, which prints the
 * same `file:line`, source line, caret and message (only on this error path).
 */
function syntaxPosition(
  filepath: string,
  error: Error,
  esm: boolean,
): { position: SourcePosition; problem?: string } | undefined {
  const stack = String(isErrorLike(error) ? error.stack : error);
  const match = new RegExp(`${escapeRegExp(filepath)}:(\\d+)$`).exec(stack.split('\n')[0]);
  if (match && !esm) return { position: { line: Number(match[1]), column: caretColumn(stack) ?? 1 } };
  const checked = spawnSync(process.execPath, ['--check', filepath], { encoding: 'utf8', timeout: 10_000 });
  const stderr = checked.stderr ?? '';
  const checkedMatch = /:(\d+)\r?\n/.exec(stderr);
  if (!checkedMatch) return undefined;
  const reason = /^SyntaxError: (.*)$/m.exec(stderr)?.[1];
  if (!reason) return undefined;
  return {
    position: { line: Number(checkedMatch[1]), column: caretColumn(stderr) ?? 1 },
    problem: reason,
  };
}

function caretColumn(stack: string): number | undefined {
  const caret = stack.split('\n').find((line) => /^\s*\^+\s*$/.test(line));
  return caret ? caret.indexOf('^') + 1 : undefined;
}

function throwLocation(filepath: string, error: Error): SourcePosition | undefined {
  const match = new RegExp(`${escapeRegExp(filepath)}:(\\d+):(\\d+)`).exec(String(error.stack));
  return match ? { line: Number(match[1]), column: Number(match[2]) } : undefined;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
