import { MemshedError, didYouMean, formatIssuePath, knownNamesHint } from '@memshed/core';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { LineCounter, isMap, isScalar, parseDocument, type Document } from '@memshed/options/yaml';
import type { z } from '@memshed/options';
import { scenarioGroupPaths, scenarioSchema, type Scenario } from './scenario';
import { simulatedActionFactories } from './simulated-hooks';

/** Where the built-in scenarios live: `scenarios/` at the package root (next to `src/` and `dist/`). */
export const BUILTIN_SCENARIO_DIR = join(__dirname, '..', 'scenarios');

/** The names of the built-in scenarios: `steady`, `ramp`, `spike`, `thrash`, `leak`, ... */
export function builtinScenarioNames(): string[] {
  return readdirSync(BUILTIN_SCENARIO_DIR)
    .filter((file) => file.endsWith('.yaml'))
    .map((file) => file.slice(0, -'.yaml'.length))
    .sort();
}

/**
 * Loads a scenario by built-in name (`ramp`) or by file path (`./my-app.yaml`, `.yml` or `.json`),
 * relative to `cwd`.
 *
 * @throws MemshedError `invalid-argument` for an unknown name or a missing file, `invalid-config`
 * naming the file and the key path (and line) for a scenario that does not match the schema.
 */
export function loadScenario(reference: string, cwd: string = process.cwd()): Scenario {
  const builtins = builtinScenarioNames();
  if (builtins.includes(reference)) {
    const file = join(BUILTIN_SCENARIO_DIR, `${reference}.yaml`);
    return parseScenario(readFileSync(file, 'utf8'), `${reference}.yaml`);
  }
  const looksLikeFile = /[/\\]/.test(reference) || /\.(ya?ml|json)$/i.test(reference);
  const path = resolve(cwd, reference);
  if (!existsSync(path)) {
    if (looksLikeFile) {
      throw new MemshedError('invalid-argument', `Scenario file not found: ${reference}`, {
        fix: `check the path, or name a built-in scenario: ${builtins.join(', ')}`,
        context: { file: path },
      });
    }
    const suggestion = didYouMean(reference, builtins);
    throw new MemshedError(
      'invalid-argument',
      `Unknown scenario '${reference}' (built-in: ${builtins.join(', ')})`,
      {
        fix: `${suggestion ? `did you mean '${suggestion}'? Or` : 'name a built-in scenario, or'} give the path of a YAML or JSON scenario file`,
      },
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw MemshedError.from(error, 'invalid-argument', `Cannot read scenario file ${reference}`);
  }
  return parseScenario(text, reference);
}

/**
 * Parses a scenario's text (YAML, or JSON which is YAML too). `file` names it in errors and gives
 * the default name (its base name without extension).
 *
 * @throws MemshedError `invalid-config`: `ramp.yaml: workloads[0].rate: expected a rate like "2MiB/s", got "fast" (line 12, column 11)`.
 */
export function parseScenario(text: string, file: string): Scenario {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (document.errors.length > 0) {
    const error = document.errors[0];
    const position = lines.linePos(error.pos[0]);
    throw new MemshedError(
      'invalid-config',
      `${file}:${position.line}:${position.col}: not valid YAML or JSON: ${error.message.split('\n')[0]}`,
      { context: { file }, fix: 'fix the syntax at that position' },
    );
  }
  return validateScenario(document.toJS() as unknown, file, { document, lines });
}

/** Where a scenario came from, to point at lines in errors. */
interface ScenarioSourceText {
  readonly document: Document;
  readonly lines: LineCounter;
}

/**
 * Validates a scenario object (already parsed from YAML or JSON, or built in code) and returns it
 * parsed: sizes in bytes, rates in bytes per second, durations in milliseconds, defaults applied.
 *
 * @throws MemshedError `invalid-config` naming `file` and the key path.
 */
export function validateScenario(input: unknown, file: string, source?: ScenarioSourceText): Scenario {
  const result = scenarioSchema.safeParse(input, { reportInput: true });
  if (!result.success) {
    const issues = result.error.issues.map((issue) => describeIssue(issue));
    const first = issues[0];
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
    throw new MemshedError(
      'invalid-config',
      `${file}: ${first.path ? first.path + ': ' : ''}${first.message}${where(source, first.segments)}${more}`,
      { context: { file, path: first.path, issues: issues.map(({ path, message }) => ({ path, message })) } },
    );
  }
  const fail = (segments: (string | number)[], message: string): never => {
    const path = formatIssuePath(segments);
    throw new MemshedError('invalid-config', `${file}: ${path}: ${message}${where(source, segments)}`, {
      context: { file, path },
    });
  };
  const scenario = result.data;
  checkScenario(scenario, fail);
  const name = scenario.name ?? basename(file, extname(file));
  return { ...scenario, name };
}

/** The checks a schema cannot express: references between parts, unique names, sizes that fit. */
function checkScenario(
  scenario: z.output<typeof scenarioSchema>,
  fail: (segments: (string | number)[], message: string) => never,
): void {
  const groups = scenarioGroupPaths(scenario.groups);
  const knownGroups = (name: string) =>
    knownNamesHint(name, groups.length ? groups : ['(no groups defined)']);
  const normalize = (group: string) => group.replace(/^\/+|\/+$/g, '');
  const used = new Map<string, number>();
  const names = new Set<string>();
  if (scenario.tick < 1) fail(['tick'], `must be at least 1ms, got ${scenario.tick}ms`);
  if (scenario.sample < scenario.tick) fail(['sample'], `must be at least the tick (${scenario.tick}ms)`);
  scenario.workloads.forEach((workload, index) => {
    const group = normalize(workload.group);
    if (group !== '' && !groups.includes(group)) {
      fail(['workloads', index, 'group'], `unknown group '${workload.group}'. ${knownGroups(group)}`);
    }
    if (used.has(group)) {
      fail(
        ['workloads', index, 'group'],
        `group '${workload.group}' already runs workloads[${used.get(group)}]: one workload per group`,
      );
    }
    used.set(group, index);
    if (names.has(workload.name)) fail(['workloads', index, 'name'], `duplicate workload '${workload.name}'`);
    names.add(workload.name);
    const { size, workingSet } = workload.files;
    if (size !== undefined && size < workingSet) {
      fail(['workloads', index, 'files', 'size'], 'the data set must be at least the working set');
    }
    for (const kind of ['caches', 'services'] as const) {
      const seen = new Set<string>();
      workload[kind].forEach((item, itemIndex) => {
        if (seen.has(item.name))
          fail(['workloads', index, kind, itemIndex, 'name'], `duplicate name '${item.name}'`);
        seen.add(item.name);
      });
    }
    workload.caches.forEach((cache, cacheIndex) => {
      if (cache.size > cache.max)
        fail(['workloads', index, 'caches', cacheIndex, 'size'], 'must not exceed max');
    });
  });
  const policyNames = new Set<string>();
  const factories = simulatedActionFactories();
  const actions = factories.map((factory) => factory.id);
  scenario.policies.forEach((policy, index) => {
    const policyName = policy.name ?? `policies[${index}]`;
    if (policyNames.has(policyName)) fail(['policies', index, 'name'], `duplicate policy '${policyName}'`);
    policyNames.add(policyName);
    policy.do.forEach((action, actionIndex) => {
      const path = ['policies', index, 'do', actionIndex];
      const factory = factories.find((candidate) => candidate.id === action.use);
      if (!factory) {
        const suggestion = didYouMean(action.use, actions);
        return fail(
          [...path, 'use'],
          `unknown action '${action.use}' (the simulator rehearses ${actions.join(', ')}). ${
            suggestion ? `Did you mean '${suggestion}'?` : ''
          }`.trim(),
        );
      }
      // The built-in actions' schemas are zod schemas: their issues read like the scenario's own.
      const schema = factory.optionsSchema as unknown as z.ZodType;
      const options = schema.safeParse(action.with ?? {}, { reportInput: true });
      if (!options.success) {
        const issue = describeIssue(options.error.issues[0], schema);
        fail([...path, 'with', ...issue.segments], issue.message);
      }
    });
  });
  if (scenario.plot.group !== undefined) {
    const group = normalize(scenario.plot.group);
    if (group !== '' && !groups.includes(group))
      fail(['plot', 'group'], `unknown group '${scenario.plot.group}'. ${knownGroups(group)}`);
  }
}

type Issue = z.core.$ZodIssue;

/** One issue as people read it: `expected a number, got "fast"`, `unknown key 'rat'. Did you mean 'rate'?`. */
function describeIssue(
  issue: Issue,
  schema: z.ZodType = scenarioSchema,
): { path: string; segments: (string | number)[]; message: string } {
  const segments = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      const message =
        input === undefined ? 'required' : `expected ${article(issue.expected)}, got ${show(input)}`;
      return { path: formatIssuePath(segments), segments, message };
    }
    case 'unrecognized_keys': {
      const key = issue.keys[0];
      const known = keysAt(schema, segments) ?? [];
      const suggestion = didYouMean(key, known);
      const keySegments = [...segments, key];
      return {
        path: formatIssuePath(keySegments),
        segments: keySegments,
        message: `unknown key${known.length ? `. Known: ${known.join(', ')}.` : ''}${
          suggestion ? ` Did you mean '${suggestion}'?` : ''
        }`,
      };
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      const suggestion = typeof input === 'string' ? didYouMean(input, values) : undefined;
      return {
        path: formatIssuePath(segments),
        segments,
        message: `expected one of ${values.join(', ')}, got ${show(input)}${suggestion ? `. Did you mean '${suggestion}'?` : ''}`,
      };
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const message =
        issue.origin === 'array'
          ? `expected ${issue.code === 'too_small' ? 'at least' : 'at most'} ${bound} item${Number(bound) === 1 ? '' : 's'}`
          : `must be ${issue.code === 'too_small' ? 'at least' : 'at most'} ${bound}${
              issue.inclusive === false ? ' (exclusive)' : ''
            }, got ${show(input)}`;
      return { path: formatIssuePath(segments), segments, message };
    }
    default:
      return { path: formatIssuePath(segments), segments, message: issue.message };
  }
}

function article(type: string): string {
  return (
    {
      number: 'a number',
      string: 'a string',
      object: 'a mapping',
      array: 'a list',
      boolean: 'true or false',
    }[type] ?? type
  );
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value !== null && typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}

/** ` (line 12, column 11)` for a key path of a parsed YAML document, or ''. */
function where(source: ScenarioSourceText | undefined, segments: readonly (string | number)[]): string {
  if (!source) return '';
  let node: unknown = source.document.getIn(segments, true);
  if (node === undefined && segments.length > 1) {
    // A missing key: point at its parent mapping (not at the whole document).
    const parent = source.document.getIn(segments.slice(0, -1), true);
    const key = segments[segments.length - 1];
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === key);
      node = pair?.key ?? parent;
    }
  }
  const range = (node as { range?: [number, number, number] } | undefined)?.range;
  if (!range) return '';
  const position = source.lines.linePos(range[0]);
  return ` (line ${position.line}, column ${position.col})`;
}

/** The keys of the object schema at `segments`, unwrapping defaults, optionals, lazies and pipes. */
function keysAt(schema: z.ZodType, segments: readonly (string | number)[]): string[] | undefined {
  let current = unwrap(schema);
  for (const segment of segments) {
    const def = current?._zod.def as unknown as Record<string, unknown> | undefined;
    if (!def) return undefined;
    if (def.type === 'object') current = unwrap((def.shape as Record<string, z.ZodType>)[segment]);
    else if (def.type === 'array') current = unwrap(def.element as z.ZodType);
    else if (def.type === 'record') current = unwrap(def.valueType as z.ZodType);
    else return undefined;
  }
  const def = current?._zod.def as unknown as Record<string, unknown> | undefined;
  return def?.type === 'object' ? Object.keys(def.shape as object) : undefined;
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 20; depth++) {
    const def = current._zod.def as unknown as Record<string, unknown>;
    if (
      ['default', 'optional', 'nullable', 'prefault', 'nonoptional', 'readonly', 'catch'].includes(
        String(def.type),
      )
    ) {
      current = def.innerType as z.ZodType;
    } else if (def.type === 'lazy') {
      current = (def.getter as () => z.ZodType)();
    } else if (def.type === 'pipe') {
      current = def.in as z.ZodType;
    } else {
      return current;
    }
  }
  return current;
}
