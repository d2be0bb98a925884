import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

/**
 * One config of the corpus: its files (the first is the one validated), and for a malformed one
 * the exact first line of the report, with `{file}` standing for the displayed path of the main
 * file, `{file:NAME}` for another file of the case and `{dir}` for the case's directory.
 */
export interface CorpusCase {
  /** Unique, kebab-case: also the case's directory name. */
  readonly name: string;
  /** What it checks. */
  readonly about: string;
  /** File name (relative to the case directory) -> content. The first entry is validated. */
  readonly files: Readonly<Record<string, string>>;
  /** The key path of the first problem (`file:line:column` for a syntax error). */
  readonly path?: string;
  /** The first line of the report, exactly (placeholders as above), or a pattern for it. */
  readonly expected?: string | RegExp;
  /** Extra command-line flags for `memshed validate`. */
  readonly flags?: readonly string[];
  /** Run only through the built binary (ES module syntax errors need Node's own loader). */
  readonly binaryOnly?: boolean;
}

const PLUGINS = `plugins: [./plugins/test-plugins.cjs]\n`;
const SOURCE = `sources:\n  - use: test-pulse\n`;
const KNOWN_ACTIONS = String.raw`Known: (?:[a-z0-9-]+, )*test-gc, test-purge(?:, [a-z0-9-]+)*\.`;

function yaml(body: string, withHeader = true): string {
  return withHeader ? `${PLUGINS}${SOURCE}${body}` : body;
}

function policy(steps: string, extra = '', when = '{ level: critical }'): string {
  return yaml(`policies:\n  - name: p\n    when: ${when}\n${extra}    do:\n${steps}`);
}

/** At least 40 malformed configs, each with the exact first problem it must report. */
export const MALFORMED_CONFIGS: readonly CorpusCase[] = [
  // Syntax errors, one or more per format.
  {
    name: 'json-trailing-comma',
    about: 'JSON syntax: a trailing comma',
    files: { '.memshedrc.json': '{\n  "sources": [{ "use": "test-pulse" }],\n}\n' },
    path: '{file}:3:1',
    expected: '{file}:3:1: JSON syntax error: trailing comma before }. Fix the file at line 3',
  },
  {
    name: 'json-missing-comma',
    about: 'JSON syntax: a missing comma between properties',
    files: { 'memshed.json': '{\n  "sources": [{ "use": "test-pulse" }]\n  "dryRun": true\n}\n' },
    path: '{file}:3:3',
    expected: `{file}:3:3: JSON syntax error: expected ',' or '}' after a property value, found '"'. Fix the file at line 3`,
  },
  {
    name: 'json-single-quotes',
    about: 'JSON syntax: single-quoted strings',
    files: { '.memshedrc.json': "{\n  'sources': []\n}\n" },
    path: '{file}:2:3',
    expected:
      '{file}:2:3: JSON syntax error: strings need double quotes in JSON, not single quotes. Fix the file at line 2',
  },
  {
    name: 'json-truncated',
    about: 'JSON syntax: the file ends early',
    files: { '.memshedrc.json': '{\n  "sources": [\n' },
    path: '{file}:3:1',
    expected:
      '{file}:3:1: JSON syntax error: expected a value, found the end of the file. Fix the file at line 3',
  },
  {
    name: 'yaml-bad-indentation',
    about: 'YAML syntax: a key indented under a list item the wrong way',
    files: { '.memshedrc.yaml': 'sources:\n  - use: test-pulse\n   with: {}\n' },
    path: '{file}:3:1',
    expected: '{file}:3:1: YAML syntax error: sequence item without - indicator. Fix the file at line 3',
  },
  {
    name: 'yaml-unclosed-flow',
    about: 'YAML syntax: an unclosed flow sequence',
    files: { '.memshedrc.yml': 'sources: [{ use: test-pulse }\ndryRun: true\n' },
    path: '{file}:2:1',
    expected:
      '{file}:2:1: YAML syntax error: flow sequence in block collection must be sufficiently indented and end with a ]. Fix the file at line 2',
  },
  {
    name: 'yaml-duplicate-key',
    about: 'YAML: the same key twice (the second would silently win)',
    files: { '.memshedrc.yaml': 'dryRun: true\ndryRun: false\n' },
    path: 'dryRun',
    expected: "{file}:2:1: dryRun: duplicate key 'dryRun' (first at line 1). Fix: keep one",
  },
  {
    name: 'yaml-duplicate-nested-key',
    about: 'YAML: the same key twice deep inside a policy, named by its key path',
    files: {
      '.memshedrc.yaml': yaml(
        'policies:\n  - name: p\n    when:\n      level: low\n      for: 5s\n      level: critical\n    do: [{ use: test-gc }]\n',
      ),
    },
    path: 'policies[0].when.level',
    expected: "{file}:9:7: policies[0].when.level: duplicate key 'level' (first at line 7). Fix: keep one",
  },
  {
    name: 'yaml-tab-indent',
    about: 'YAML syntax: a tab used for indentation',
    files: { '.memshedrc': 'sources:\n\t- use: test-pulse\n' },
    path: '{file}:2:1',
    expected: '{file}:2:1: YAML syntax error: tabs are not allowed as indentation. Fix the file at line 2',
  },
  {
    name: 'js-syntax',
    about: 'JavaScript (CommonJS) syntax error, with its line',
    files: { '.memshedrc.js': "module.exports = {\n  sources: [{ use: 'test-pulse' }],\n  dryRun: ,\n};\n" },
    path: '{file}:3:11',
    expected: "{file}:3:11: JavaScript syntax error: unexpected token ','. Fix the file at line 3",
  },
  {
    name: 'cjs-syntax',
    about: 'CommonJS (.cjs) syntax error',
    files: { '.memshedrc.cjs': "module.exports = {\n  sources: [{ use: 'test-pulse' }\n};\n" },
    path: '{file}:3:1',
    expected: "{file}:3:1: JavaScript syntax error: unexpected token '}'. Fix the file at line 3",
  },
  {
    name: 'mjs-syntax',
    about: 'ES module (.mjs) syntax error: located with node --check',
    files: {
      'memshed.config.mjs': "export default {\n  sources: [{ use: 'test-pulse' }]\n  dryRun: true,\n};\n",
    },
    path: '{file}:3:3',
    expected: "{file}:3:3: JavaScript syntax error: unexpected identifier 'dryRun'. Fix the file at line 3",
    binaryOnly: true,
  },
  {
    name: 'ts-syntax',
    about: 'TypeScript syntax error, from the transpiler',
    files: {
      '.memshedrc.ts':
        "const config = {\n  sources: [{ use: 'test-pulse' }],\n  dryRun: true\n  policies: [],\n};\nexport default config;\n",
    },
    path: '{file}:4:3',
    expected: "{file}:4:3: TypeScript syntax error: ',' expected. Fix the file at line 4",
  },
  {
    name: 'ts-throws',
    about: 'a TypeScript config that throws while it runs',
    files: {
      'memshed.config.ts':
        "const limit: number = Number('x');\nif (Number.isNaN(limit)) throw new Error('no limit set');\nexport default {};\n",
    },
    path: '',
    expected:
      '{file}: running the config failed: no limit set. Fix the code, or write the config in JSON or YAML',
  },
  {
    name: 'js-exports-number',
    about: 'a JavaScript config that exports a number',
    files: { '.memshedrc.cjs': 'module.exports = 42;\n' },
    path: '',
    expected: '{file}: the config must be an object of keys (sources, policies, ...), got 42',
  },
  {
    name: 'yaml-empty',
    about: 'a config file with nothing in it',
    files: { '.memshedrc.yaml': '# nothing yet\n' },
    path: '',
    expected: '{file}: the config is empty. Add at least sources: [{ use: psi }]',
  },
  {
    name: 'yaml-top-level-list',
    about: 'a list where the config object should be',
    files: { '.memshedrc.yaml': '- use: test-pulse\n' },
    path: '',
    expected: '{file}: the config must be an object of keys (sources, policies, ...), got a list',
  },
  // Wrong types.
  {
    name: 'sources-not-a-list',
    about: 'sources given as one string',
    files: { '.memshedrc.yaml': `${PLUGINS}sources: test-pulse\n` },
    path: 'sources',
    expected: "{file}: sources: expected a list, got 'test-pulse'",
  },
  {
    name: 'dry-run-string',
    about: 'a boolean written as a string',
    files: { '.memshedrc.yaml': yaml("dryRun: 'yes'\n") },
    path: 'dryRun',
    expected: "{file}: dryRun: expected a boolean, got 'yes'",
  },
  {
    name: 'source-optional-string',
    about: "a source's optional flag written as a string",
    files: { '.memshedrc.yaml': `${PLUGINS}sources:\n  - use: test-pulse\n    optional: 'yes'\n` },
    path: 'sources[0].optional',
    expected: "{file}: sources[0].optional: expected a boolean, got 'yes'",
  },
  {
    name: 'level-number',
    about: 'a level written as a number',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '', '{ level: 2 }') },
    path: 'policies[0].when.level',
    expected: '{file}: policies[0].when.level: expected one of low, medium, critical, got 2',
  },
  {
    name: 'use-number',
    about: 'a plugin named by a number',
    files: { '.memshedrc.json': '{ "sources": [{ "use": 42 }] }\n' },
    path: 'sources[0].use',
    expected: '{file}: sources[0].use: expected a plugin id or module, got 42',
  },
  {
    name: 'plugin-option-type',
    about: "a plugin option of the wrong type, checked by the plugin's own schema",
    files: { '.memshedrc.yaml': `${PLUGINS}sources:\n  - use: test-pulse\n    with: { every: fast }\n` },
    path: 'sources[0].with.every',
    expected: "{file}: sources[0].with.every: expected a number, got 'fast'",
  },
  {
    name: 'do-not-a-list',
    about: 'a chain given as one string',
    files: { '.memshedrc.yaml': yaml('policies:\n  - when: { level: low }\n    do: test-gc\n') },
    path: 'policies[0].do',
    expected: "{file}: policies[0].do: expected a list of actions, got 'test-gc'",
  },
  {
    name: 'when-missing',
    about: 'a policy without its condition',
    files: { '.memshedrc.yaml': yaml('policies:\n  - do:\n      - use: test-gc\n') },
    path: 'policies[0].when',
    expected: '{file}: policies[0].when: required: expected an object',
  },
  {
    name: 'scope-relative',
    about: 'a scope that is not a path',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '', '{ level: low, scope: app }') },
    path: 'policies[0].when.scope',
    expected: "{file}: policies[0].when.scope: expected a scope path starting with '/', got 'app'",
  },
  // Unknown keys, with "did you mean" among the keys allowed there.
  {
    name: 'unknown-top-level-key',
    about: 'a misspelt top-level key',
    files: { '.memshedrc.yaml': yaml('polices: []\n') },
    path: 'polices',
    expected:
      "{file}: polices: unknown key 'polices'. Allowed here: $schema, $import, plugins, sources, recovery, policies, dryRun, actionTimeout. Did you mean 'policies'?",
  },
  {
    name: 'unknown-policy-key',
    about: 'a misspelt policy key',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '    cooldwn: 10s\n') },
    path: 'policies[0].cooldwn',
    expected:
      "{file}: policies[0].cooldwn: unknown key 'cooldwn'. Allowed here: name, when, do, cooldown, dryRun. Did you mean 'cooldown'?",
  },
  {
    name: 'unknown-when-key',
    about: 'a misspelt key of when',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '', '{ level: low, fr: 1s }') },
    path: 'policies[0].when.fr',
    expected:
      "{file}: policies[0].when.fr: unknown key 'fr'. Allowed here: level, for, scope. Did you mean 'for'?",
  },
  {
    name: 'unknown-step-key',
    about: 'a misspelt key of an action entry',
    files: { '.memshedrc.yaml': policy('      - use: test-purge\n        wtih: { fraction: 0.2 }\n') },
    path: 'policies[0].do[0].wtih',
    expected:
      "{file}: policies[0].do[0].wtih: unknown key 'wtih'. Allowed here: use, with, name, timeout. Did you mean 'with'?",
  },
  {
    name: 'unknown-source-key',
    about: 'a misspelt key of a source entry',
    files: { '.memshedrc.yaml': `${PLUGINS}sources:\n  - use: test-pulse\n    optinal: true\n` },
    path: 'sources[0].optinal',
    expected:
      "{file}: sources[0].optinal: unknown key 'optinal'. Allowed here: use, with, optional. Did you mean 'optional'?",
  },
  {
    name: 'unknown-recovery-key',
    about: 'a misspelt key of recovery',
    files: { '.memshedrc.yaml': yaml('recovery: { quite: 5s }\n') },
    path: 'recovery.quite',
    expected:
      "{file}: recovery.quite: unknown key 'quite'. Allowed here: quiet, scope. Did you mean 'quiet'?",
  },
  {
    name: 'unknown-plugin-option',
    about: "a misspelt plugin option, with the plugin's own keys suggested",
    files: { '.memshedrc.yaml': policy('      - use: test-purge\n        with: { fractoin: 0.5 }\n') },
    path: 'policies[0].do[0].with.fractoin',
    expected:
      "{file}: policies[0].do[0].with.fractoin: unknown key 'fractoin'. Allowed here: fraction, delay, freed, outcome. Did you mean 'fraction'?",
  },
  // Unknown ids.
  {
    name: 'unknown-action-id',
    about: 'a misspelt action id, as in the issue',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n      - use: test-prge\n') },
    path: 'policies[0].do[1].use',
    expected: new RegExp(
      String.raw`^\{file\}: policies\[0\]\.do\[1\]\.use: unknown action 'test-prge'\. ${KNOWN_ACTIONS} Did you mean 'test-purge'\?$`,
    ),
  },
  {
    name: 'unknown-source-id',
    about: 'a misspelt source id',
    files: { '.memshedrc.yaml': `${PLUGINS}sources:\n  - use: test-pluse\n` },
    path: 'sources[0].use',
    expected:
      /^\{file\}: sources\[0\]\.use: unknown source 'test-pluse'\. Known: .*test-pulse.*\. Did you mean 'test-pulse'\?$/,
  },
  {
    name: 'action-as-source',
    about: 'an action id where a source belongs',
    files: { '.memshedrc.yaml': `${PLUGINS}sources:\n  - use: test-gc\n` },
    path: 'sources[0].use',
    expected:
      /^\{file\}: sources\[0\]\.use: 'test-gc' is an action, not a source\. Known sources: .*test-pulse.*$/,
  },
  {
    name: 'level-typo',
    about: 'a misspelt level',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '', '{ level: critcal }') },
    path: 'policies[0].when.level',
    expected:
      "{file}: policies[0].when.level: expected one of low, medium, critical, got 'critcal'. Did you mean 'critical'?",
  },
  {
    name: 'level-normal',
    about: "'normal' is a state, not a level to act on",
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '', '{ level: normal }') },
    path: 'policies[0].when.level',
    expected:
      "{file}: policies[0].when.level: 'normal' is not a pressure level: policies run on pressure. Use one of low, medium, critical",
  },
  {
    name: 'plugin-option-enum',
    about: 'a plugin option outside its enum',
    files: { '.memshedrc.yaml': `${PLUGINS}sources:\n  - use: test-pulse\n    with: { level: critcal }\n` },
    path: 'sources[0].with.level',
    expected:
      "{file}: sources[0].with.level: expected one of low, medium, critical, got 'critcal'. Did you mean 'critical'?",
  },
  // Durations.
  {
    name: 'duration-words',
    about: 'a duration with a spelt-out unit',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '', "{ level: low, for: '5 sec' }") },
    path: 'policies[0].when.for',
    expected:
      "{file}: policies[0].when.for: invalid duration '5 sec': unknown unit 'sec'. Fix: write a number of milliseconds, or a number with a unit: '500ms', '5s', '2m' or '1h'",
  },
  {
    name: 'duration-unit-typo',
    about: 'a duration whose unit is a typo of a known one',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n', '    cooldown: 10sx\n') },
    path: 'policies[0].cooldown',
    expected:
      "{file}: policies[0].cooldown: invalid duration '10sx': unknown unit 'sx' (did you mean '10s'?). Fix: write a number of milliseconds, or a number with a unit: '500ms', '5s', '2m' or '1h'",
  },
  {
    name: 'size-ambiguous-megabytes',
    about: 'a size in MB, which tools read as 10^6 or 2^20 bytes: refused with both spellings',
    files: { '.memshedrc.yaml': policy('      - use: gc\n        with: { settleBytes: 512MB }\n') },
    path: 'policies[0].do[0].with.settleBytes',
    expected:
      "{file}: policies[0].do[0].with.settleBytes: '512MB' is ambiguous: write 512MiB (or 512M) for 2^20-byte megabytes, or 512000000 for SI",
  },
  {
    name: 'size-percent-not-taken',
    about: 'a share of a limit where the option takes a size only',
    files: { '.memshedrc.yaml': policy('      - use: cache-purge\n        with: { enough: 50% }\n') },
    path: 'policies[0].do[0].with.enough',
    expected:
      "{file}: policies[0].do[0].with.enough: '50%' is a share of a limit, which this option does not take. Fix: write a size such as '512MiB', or a number of bytes",
  },
  {
    name: 'duration-negative',
    about: 'a negative duration',
    files: { '.memshedrc.yaml': yaml('recovery: { quiet: -5s }\n') },
    path: 'recovery.quiet',
    expected:
      "{file}: recovery.quiet: invalid duration '-5s'. Fix: write a number of milliseconds, or a number with a unit: '500ms', '5s', '2m' or '1h'",
  },
  {
    name: 'duration-boolean',
    about: 'a boolean where a duration belongs',
    files: { '.memshedrc.yaml': yaml('actionTimeout: true\n') },
    path: 'actionTimeout',
    expected: "{file}: actionTimeout: expected a duration such as '500ms', '5s', '2m' or '5000', got true",
  },
  {
    name: 'duration-days',
    about: 'an unsupported unit',
    files: { '.memshedrc.yaml': policy('      - use: test-gc\n        timeout: 1d\n') },
    path: 'policies[0].do[0].timeout',
    expected:
      "{file}: policies[0].do[0].timeout: invalid duration '1d': unknown unit 'd'. Fix: write a number of milliseconds, or a number with a unit: '500ms', '5s', '2m' or '1h'",
  },
  // Out-of-range plugin options.
  {
    name: 'fraction-too-big',
    about: 'a fraction above 1',
    files: { '.memshedrc.yaml': policy('      - use: test-purge\n        with: { fraction: 1.5 }\n') },
    path: 'policies[0].do[0].with.fraction',
    expected: '{file}: policies[0].do[0].with.fraction: out of range: must be <= 1, got 1.5',
  },
  {
    name: 'interval-zero',
    about: 'an interval of 0 ms',
    files: { '.memshedrc.yaml': `${PLUGINS}sources:\n  - use: test-pulse\n    with: { every: 0 }\n` },
    path: 'sources[0].with.every',
    expected: '{file}: sources[0].with.every: out of range: must be >= 1, got 0',
  },
  {
    name: 'fraction-negative-json',
    about: 'a negative fraction, in JSON',
    files: {
      '.memshedrc.json': JSON.stringify(
        {
          plugins: ['./plugins/test-plugins.cjs'],
          sources: [{ use: 'test-pulse' }],
          policies: [{ when: { level: 'low' }, do: [{ use: 'test-purge', with: { fraction: -0.1 } }] }],
        },
        null,
        2,
      ),
    },
    path: 'policies[0].do[0].with.fraction',
    expected: '{file}: policies[0].do[0].with.fraction: out of range: must be >= 0, got -0.1',
  },
  // Plugin modules.
  {
    name: 'missing-plugin-path',
    about: 'a plugin module path that does not exist',
    files: { '.memshedrc.yaml': `plugins: [./plugins/missing.cjs]\n${SOURCE}` },
    path: 'plugins[0]',
    expected:
      "{file}: plugins[0]: cannot find plugin module './plugins/missing.cjs'. Fix the path: it is relative to this file ({dir}/plugins/missing.cjs)",
  },
  {
    name: 'missing-plugin-package',
    about: 'a plugin package that is not installed',
    files: { '.memshedrc.yaml': `plugins: [memshed-plugin-nope]\n${SOURCE}` },
    path: 'plugins[0]',
    expected:
      "{file}: plugins[0]: cannot find plugin module 'memshed-plugin-nope'. Install it (npm install memshed-plugin-nope) or fix the name",
  },
  {
    name: 'missing-action-module',
    about: 'an action named by a module path that does not exist',
    files: { '.memshedrc.yaml': policy('      - use: ./plugins/missing-action.cjs\n') },
    path: 'policies[0].do[0].use',
    expected:
      "{file}: policies[0].do[0].use: cannot find plugin module './plugins/missing-action.cjs'. Fix the path: it is relative to this file ({dir}/plugins/missing-action.cjs)",
  },
  {
    name: 'not-a-plugin-module',
    about: 'a module that exports no ContainerModule',
    files: { '.memshedrc.yaml': `plugins: [./plugins/not-a-plugin.cjs]\n${SOURCE}` },
    path: 'plugins[0]',
    expected:
      "{file}: plugins[0]: plugin module './plugins/not-a-plugin.cjs' does not export a ContainerModule. Export default new ContainerModule(({ bind }) => ...) binding a PressureSourceFactory or SheddingActionFactory",
  },
  {
    name: 'plugin-throws-on-load',
    about: 'a plugin module that throws while loading',
    files: { '.memshedrc.yaml': `plugins: [./plugins/throws-on-load.cjs]\n${SOURCE}` },
    path: 'plugins[0]',
    expected:
      "{file}: plugins[0]: plugin module './plugins/throws-on-load.cjs' failed to load: boom while loading. Fix the module",
  },
  {
    name: 'plugin-binds-nothing',
    about: 'a ContainerModule that binds no factory',
    files: { '.memshedrc.yaml': `plugins: [./plugins/empty-module.cjs]\n${SOURCE}` },
    path: 'plugins[0]',
    expected:
      "{file}: plugins[0]: plugin module './plugins/empty-module.cjs' binds no source or action factory. Bind a PressureSourceFactory or SheddingActionFactory in its ContainerModule",
  },
  {
    name: 'module-provides-no-source',
    about: 'a module named as a source that only provides an action',
    files: { '.memshedrc.yaml': 'sources:\n  - use: ./plugins/single-action.cjs\n' },
    path: 'sources[0].use',
    expected:
      "{file}: sources[0].use: plugin module './plugins/single-action.cjs' provides no source (it provides action 'test-notify'). Name a module that provides a source",
  },
  // Chains, references and cross-checks.
  {
    name: 'empty-chain',
    about: 'a policy with no action',
    files: { '.memshedrc.yaml': yaml('policies:\n  - when: { level: critical }\n    do: []\n') },
    path: 'policies[0].do',
    expected: '{file}: policies[0].do: empty chain: a policy needs at least one action, e.g. - use: gc',
  },
  {
    name: 'import-cycle',
    about: 'two files importing each other',
    files: {
      '.memshedrc.yaml': `$import: ./base.yaml\n${PLUGINS}${SOURCE}`,
      'base.yaml': '$import: ./.memshedrc.yaml\ndryRun: true\n',
    },
    path: '$import',
    expected:
      '{file:base.yaml}: $import: circular import: {file} -> {file:base.yaml} -> {file}. Remove one of the imports',
  },
  {
    name: 'import-self',
    about: 'a file importing itself',
    files: { '.memshedrc.yaml': `$import: [./.memshedrc.yaml]\n${PLUGINS}${SOURCE}` },
    path: '$import[0]',
    expected: '{file}: $import[0]: circular import: {file} -> {file}. Remove one of the imports',
  },
  {
    name: 'import-missing',
    about: 'an import that does not exist',
    files: { '.memshedrc.yaml': `$import: ./base.yaml\n${PLUGINS}${SOURCE}` },
    path: '$import',
    expected:
      "{file}: $import: cannot import './base.yaml': no such file. Fix the path (relative to this file)",
  },
  {
    name: 'import-code',
    about: 'an import of a JavaScript file',
    files: {
      '.memshedrc.yaml': `$import: ./base.js\n${PLUGINS}${SOURCE}`,
      'base.js': 'module.exports = {};\n',
    },
    path: '$import',
    expected: "{file}: $import: cannot import './base.js': only JSON and YAML files can be imported",
  },
  {
    name: 'import-bad-content',
    about: 'a problem inside an imported file is reported in that file',
    files: {
      '.memshedrc.yaml': `$import: ./base.yaml\n${PLUGINS}${SOURCE}`,
      'base.yaml': 'policies:\n  - when: { level: hgh }\n    do: [{ use: test-gc }]\n',
    },
    path: 'policies[0].when.level',
    expected: "{file:base.yaml}: policies[0].when.level: expected one of low, medium, critical, got 'hgh'",
  },
  {
    name: 'no-sources',
    about: 'a config with policies and nothing to watch',
    files: {
      '.memshedrc.yaml': `${PLUGINS}policies:\n  - when: { level: low }\n    do: [{ use: test-gc }]\n`,
    },
    path: 'sources',
    expected:
      /^\{file\}: sources: no source is configured: memshed has nothing to watch\. Add one, e\.g\. sources: \[\{ use: [a-z0-9-]+ \}\] \(run memshed doctor to see which work here\)$/,
  },
  {
    name: 'duplicate-policy-name',
    about: 'two policies with one name',
    files: {
      '.memshedrc.yaml': yaml(
        'policies:\n  - name: trim\n    when: { level: low }\n    do: [{ use: test-gc }]\n  - name: trim\n    when: { level: critical }\n    do: [{ use: test-purge }]\n',
      ),
    },
    path: 'policies[1].name',
    expected:
      "{file}: policies[1].name: duplicate policy name 'trim'. policies[0] has it already. Give each policy its own name",
  },
  {
    name: 'package-json-key',
    about: 'a misspelt key inside package.json "memshed"',
    files: {
      'package.json': JSON.stringify(
        {
          name: 'app',
          memshed: {
            plugins: ['./plugins/test-plugins.cjs'],
            sources: [{ use: 'test-pulse' }],
            dryrun: true,
          },
        },
        null,
        2,
      ),
    },
    path: 'memshed.dryrun',
    expected:
      "{file}: memshed.dryrun: unknown key 'dryrun'. Allowed here: $schema, $import, plugins, sources, recovery, policies, dryRun, actionTimeout. Did you mean 'dryRun'?",
  },
  {
    name: 'safe-mode-js',
    about: '--safe refuses a config that runs code',
    files: { 'memshed.config.js': "module.exports = { sources: [{ use: 'test-pulse' }] };\n" },
    flags: ['--safe'],
    path: '',
    expected:
      '{file}: safe mode loads no JavaScript config (it would run code). Write the config as .memshedrc.json or .memshedrc.yaml, or drop --safe',
  },
  {
    name: 'safe-mode-plugins',
    about: '--safe refuses plugin modules',
    files: { '.memshedrc.yaml': `${PLUGINS}${SOURCE}` },
    flags: ['--safe'],
    path: 'plugins[0]',
    expected:
      "{file}: plugins[0]: safe mode loads no plugin modules (they run code): './plugins/test-plugins.cjs'. Use the built-in plugins only, or drop --safe",
  },
];

const FULL = {
  plugins: ['./plugins/test-plugins.cjs'],
  sources: [{ use: 'test-pulse', with: { level: 'medium', every: 100 } }],
  recovery: { quiet: '2s' },
  policies: [
    {
      name: 'trim',
      when: { level: 'medium', for: '500ms' },
      do: [{ use: 'test-purge', with: { fraction: 0.5 } }, { use: 'test-gc' }],
      cooldown: '10s',
    },
    { name: 'drop', when: { level: 'critical' }, do: [{ use: './plugins/single-action.cjs' }] },
  ],
  dryRun: false,
};

const FULL_YAML = `# yaml-language-server: $schema=../memshed.schema.json
plugins: [./plugins/test-plugins.cjs]
sources:
  - use: test-pulse
    with: { level: medium, every: 100 }
recovery: { quiet: 2s }
policies:
  - name: trim
    when: { level: medium, for: 500ms }
    do:
      - use: test-purge
        with: { fraction: 0.5 }
      - use: test-gc
    cooldown: 10s
  - name: drop
    when: { level: critical }
    do:
      - use: ./plugins/single-action.cjs
dryRun: false
`;

/** Valid configs in every format, each with 2 policies and 1 source (the summary says so). */
export const VALID_CONFIGS: readonly CorpusCase[] = [
  {
    name: 'valid-json',
    about: '.memshedrc.json',
    files: { '.memshedrc.json': JSON.stringify(FULL, null, 2) },
  },
  { name: 'valid-yaml', about: '.memshedrc.yaml', files: { '.memshedrc.yaml': FULL_YAML } },
  { name: 'valid-yml', about: '.memshedrc.yml', files: { '.memshedrc.yml': FULL_YAML } },
  { name: 'valid-noext', about: '.memshedrc (YAML)', files: { '.memshedrc': FULL_YAML } },
  {
    name: 'valid-js',
    about: '.memshedrc.js (CommonJS)',
    files: { '.memshedrc.js': `module.exports = ${JSON.stringify(FULL, null, 2)};\n` },
  },
  {
    name: 'valid-cjs',
    about: 'memshed.config.cjs, exporting a function',
    files: { 'memshed.config.cjs': `module.exports = async () => (${JSON.stringify(FULL, null, 2)});\n` },
  },
  {
    name: 'valid-mjs',
    about: 'memshed.config.mjs (ES module)',
    files: { 'memshed.config.mjs': `export default ${JSON.stringify(FULL, null, 2)};\n` },
  },
  {
    name: 'valid-ts',
    about: 'memshed.config.ts, with types',
    files: {
      'memshed.config.ts': `interface Policy { name: string; when: { level: 'low' | 'medium' | 'critical'; for?: string }; do: { use: string; with?: object }[]; cooldown?: string }\nconst policies: Policy[] = ${JSON.stringify(FULL.policies, null, 2)};\nexport default { ...${JSON.stringify({ ...FULL, policies: undefined })}, policies };\n`,
    },
  },
  {
    name: 'valid-package-json',
    about: 'package.json "memshed"',
    files: { 'package.json': JSON.stringify({ name: 'app', private: true, memshed: FULL }, null, 2) },
  },
  {
    name: 'valid-import',
    about: 'a YAML file importing a JSON base',
    files: {
      '.memshedrc.yaml':
        '$import: ./base.json\npolicies:\n  - name: drop\n    when: { level: critical }\n    do:\n      - use: ./plugins/single-action.cjs\n',
      'base.json': JSON.stringify({ ...FULL, policies: [FULL.policies[0]] }, null, 2),
    },
  },
];

/** Where the corpus's plugin modules live in this repository. */
export const FIXTURE_PLUGINS_DIR = resolve(__dirname, '../../fixtures/plugins');

function repositoryNodeModules(): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'node_modules');
    if (existsSync(join(candidate, 'zod'))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the node_modules of the repository');
    dir = parent;
  }
}

/**
 * A temporary directory for corpus cases: each case gets `<root>/<name>/` with its files and a
 * `plugins` link to the fixture plugins; `<root>/node_modules` links the repository's, so that
 * plugin modules resolve their dependencies. Remove it with `cleanup()`.
 */
export function createCorpusDir(): { root: string; write(testCase: CorpusCase): string; cleanup(): void } {
  const root = mkdtempSync(join(tmpdir(), 'memshed-corpus-'));
  symlinkSync(repositoryNodeModules(), join(root, 'node_modules'), 'dir');
  return {
    root,
    write(testCase) {
      const dir = join(root, testCase.name);
      mkdirSync(dir, { recursive: true });
      if (!existsSync(join(dir, 'plugins'))) symlinkSync(FIXTURE_PLUGINS_DIR, join(dir, 'plugins'), 'dir');
      for (const [name, content] of Object.entries(testCase.files)) writeFileSync(join(dir, name), content);
      return join(dir, Object.keys(testCase.files)[0]);
    },
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The expected first line of a case with its placeholders filled in, given how the files are
 * displayed (`display(absolutePath)`).
 */
export function expectedLine(
  testCase: CorpusCase,
  dir: string,
  display: (file: string) => string,
): string | RegExp {
  const main = Object.keys(testCase.files)[0];
  const fill = (text: string, escape: (s: string) => string) =>
    text
      .replace(/\{file:([^}]+)\}/g, (_, name: string) => escape(display(join(dir, name))))
      .replace(/\{file\}/g, escape(display(join(dir, main))))
      .replace(/\{dir\}/g, escape(dir));
  const expected = testCase.expected ?? '';
  if (typeof expected === 'string') return fill(expected, (s) => s);
  const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    fill(expected.source.replace(/\\\{file\\\}/g, '{file}').replace(/\\\{dir\\\}/g, '{dir}'), escapeRegExp),
    expected.flags,
  );
}
