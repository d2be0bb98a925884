import { partOf, unitOf, type UnitMarker, type z } from '@memshed/options';
import { scenarioSchema } from '@memshed/source-vmscan-sim';
import { configFileSchema } from './config-schema';
import { configJsonSchema, pluginOptionsJsonSchema } from './json-schema';
import { loadBuiltinPlugins } from './plugin-modules';

// Every size and duration option of every built-in plugin, of the config and of the scenario
// schema, found by the marker @memshed/options puts on its unit options (no list to keep up to
// date), must read the same spellings as the same bytes and milliseconds, refuse the same ones
// with the same message, and be described by the JSON Schema with a pattern that agrees.

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Path = readonly (string | number)[];

interface UnitField {
  readonly where: string;
  readonly path: Path;
  readonly schema: z.ZodType;
  readonly marker: UnitMarker;
}

interface Leaf {
  readonly path: Path;
  readonly type: string;
}

const MiB = 2 ** 20;

/** Spellings of one quantity: all must give the same result (the same value, or the same refusal). */
const SIZES: readonly (readonly [bytes: number, spellings: readonly (string | number)[]])[] = [
  [512 * MiB, ['512M', '512m', '512Mi', '512MiB', '536870912', 536_870_912, '0.5G', '0.5GiB', '524288K']],
  [500 * MiB, ['500M', '500Mi', '500MiB', '524288000', 524_288_000]],
  [64 * 1024, ['64K', '64k', '64Ki', '64KiB', '65536', 65_536]],
];
const DURATIONS: readonly (readonly [ms: number, spellings: readonly (string | number)[]])[] = [
  [500, ['500ms', '0.5s', '500', 500]],
  [5000, ['5s', '5000ms', '5000', 5000]],
  [120_000, ['2m', '120s', '120000', 120_000]],
];

/** Size and duration options found by their marker; every other leaf, for the name check. */
function walk(
  where: string,
  schema: unknown,
  path: Path,
  found: UnitField[],
  leaves: Leaf[],
  seen = new Set(),
) {
  const marker = unitOf(schema);
  if (marker) {
    found.push({ where, path, schema: schema as z.ZodType, marker });
    return;
  }
  const part = partOf(schema);
  if (part) return walk(where, part, path, found, leaves, seen);
  const def = (schema as { _zod: { def: Json } })._zod.def;
  switch (def.type) {
    case 'object':
      for (const [key, value] of Object.entries(def.shape as Json))
        walk(where, value, [...path, key], found, leaves, seen);
      return;
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'nonoptional':
    case 'catch':
      return walk(where, def.innerType, path, found, leaves, seen);
    case 'pipe':
      walk(where, def.in, path, found, leaves, seen);
      return walk(where, def.out, path, found, leaves, seen);
    case 'union':
      for (const option of def.options as unknown[]) walk(where, option, path, found, leaves, seen);
      return;
    case 'array':
      return walk(where, def.element, [...path, 0], found, leaves, seen);
    case 'record':
      return walk(where, def.valueType, [...path, '*'], found, leaves, seen);
    case 'lazy':
      // A recursive schema (the scenario's groups): walk it once.
      if (seen.has(schema)) return;
      seen.add(schema);
      return walk(where, def.getter(), path, found, leaves, seen);
    default:
      leaves.push({ path, type: def.type as string });
  }
}

function collect(): { fields: UnitField[]; leaves: Leaf[]; plugins: ReturnType<typeof loadBuiltinPlugins> } {
  const plugins = loadBuiltinPlugins(__dirname);
  const fields: UnitField[] = [];
  const leaves: Leaf[] = [];
  for (const factory of [...plugins.sources, ...plugins.actions]) {
    walk(factory.id, factory.optionsSchema, [], fields, leaves);
  }
  walk('config', configFileSchema, [], fields, leaves);
  walk('scenario', scenarioSchema, [], fields, leaves);
  return { fields, leaves, plugins };
}

const { fields, leaves, plugins } = collect();
const name = (field: UnitField) => `${field.where}: ${field.path.join('.')} (${field.marker.unit})`;
const sizeFields = fields.filter(
  (field) => field.marker.unit === 'bytes' || field.marker.unit === 'bytes-or-percent',
);
const durationFields = fields.filter((field) => field.marker.unit.startsWith('duration'));

/** What a parsed size option means in bytes, whatever its output shape. */
function bytesOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  const record = value as Json;
  if (typeof record?.bytes === 'number') return record.bytes;
  if (record?.kind === 'bytes' && !record.free) return record.value;
  return undefined;
}

/** The result of one spelling: the value it means, or the refusal. */
function outcome(field: UnitField, input: unknown, meaning: (value: unknown) => unknown): unknown {
  const result = field.schema.safeParse(input);
  return result.success
    ? { means: meaning(result.data) }
    : { refused: result.error.issues[0].message.split(':')[0] };
}

describe('units everywhere', () => {
  it('finds the size and duration options of every built-in plugin, the config and the scenario', () => {
    const names = fields.map(name);
    for (const expected of [
      'cache-purge: enough (bytes)',
      'cache-purge: flushTimeout (duration)',
      'gc: settleBytes (bytes)',
      'gc: minInterval (duration)',
      'service-shutdown: restart.after (duration)',
      'cgroup-v1: usageThreshold (bytes-or-percent)',
      'cgroup-v1: minIntervalMs (duration)',
      'psi: pollInterval (duration)',
      'vmstat: interval (duration)',
      'system: container.medium (bytes-or-percent)',
      'system: host.interval (duration)',
      'v8: externalLimit (bytes)',
      'v8: window (duration)',
      'electron: app.limit (bytes)',
      'electron: interval (duration)',
      'config: recovery.quiet (duration)',
      'config: policies.0.when.for (duration)',
      'config: policies.0.cooldown (duration)',
      'config: policies.0.do.0.timeout (duration)',
      'config: actionTimeout (duration)',
      'scenario: duration (duration)',
      'scenario: workloads.0.rate (rate)',
      'scenario: workloads.0.restart (duration-or-never)',
      'scenario: machine.memory (bytes)',
      'scenario: groups.*.limit (bytes)',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it('leaves no size or duration as a plain number or text (by the name of its key)', () => {
    const unitLike = /(interval|timeout|ms|bytes|size|limit|quiet|cooldown|delay|window|repeat|after)$/i;
    const plain = leaves.filter(
      (leaf) =>
        (leaf.type === 'number' || leaf.type === 'int' || leaf.type === 'string') &&
        unitLike.test(String(leaf.path[leaf.path.length - 1] ?? '')),
    );
    expect(plain).toEqual([]);
  });

  describe.each(sizeFields.map((field) => [name(field), field] as const))('%s', (_name, field) => {
    it.each(SIZES.map(([bytes, spellings]) => [bytes, spellings] as const))(
      'reads every spelling of %p bytes alike',
      (bytes, spellings) => {
        const outcomes = spellings.map((spelling) => outcome(field, spelling, bytesOf));
        expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1);
        const first = outcomes[0] as { means?: number; refused?: string };
        // A field may refuse a size by its own range; it then refuses every spelling of it.
        if (first.means !== undefined) expect(first.means).toBe(bytes);
      },
    );

    it('refuses 512MB with the same did-you-mean', () => {
      const result = field.schema.safeParse('512MB');
      expect(result.success).toBe(false);
      expect(result.error?.issues[0].message).toBe(
        "'512MB' is ambiguous: write 512MiB (or 512M) for 2^20-byte megabytes, or 512000000 for SI",
      );
    });

    it(field.marker.unit === 'bytes' ? 'refuses 50% as not a size' : 'reads 50% as half the limit', () => {
      const result = field.schema.safeParse('50%');
      if (field.marker.unit === 'bytes') {
        expect(result.error?.issues[0].message).toMatch(
          /^'50%' is a share of a limit, which this option does not take/,
        );
      } else {
        const value = result.data as Json;
        expect(value.percent ?? value.value * 100).toBe(50);
      }
    });
  });

  describe.each(durationFields.map((field) => [name(field), field] as const))('%s', (_name, field) => {
    it.each(DURATIONS.map(([ms, spellings]) => [ms, spellings] as const))(
      'reads every spelling of %p ms alike',
      (ms, spellings) => {
        const outcomes = spellings.map((spelling) => outcome(field, spelling, (value) => value));
        expect(new Set(outcomes.map((o) => JSON.stringify(o))).size).toBe(1);
        const first = outcomes[0] as { means?: number };
        if (first.means !== undefined) expect(first.means).toBe(ms);
      },
    );

    it('refuses a unit it does not know with the accepted forms', () => {
      const result = field.schema.safeParse('5 sec');
      expect(result.error?.issues[0].message).toMatch(
        /^Invalid duration '5 sec': unknown unit 'sec'\. Fix: write a number of milliseconds/,
      );
    });
  });

  describe('the JSON Schema', () => {
    const config = configJsonSchema(plugins);
    const byId = new Map([...plugins.sources, ...plugins.actions].map((factory) => [factory.id, factory]));

    /** The JSON Schema of the option at `path`, through objects, lists, records and `false |` parts. */
    function jsonAt(root: Json, path: Path): Json | undefined {
      let node: Json | undefined = root;
      for (const segment of path) {
        const object: Json | undefined =
          node?.properties || node?.items || node?.additionalProperties
            ? node
            : (node?.anyOf as Json[] | undefined)?.find((branch) => branch.properties || branch.items);
        node =
          segment === '*'
            ? object?.additionalProperties
            : typeof segment === 'number'
              ? object?.items
              : object?.properties?.[segment];
      }
      return node;
    }

    const described = fields.filter((field) => field.where !== 'scenario');

    it.each(described.map((field) => [name(field), field] as const))(
      '%s: its pattern accepts what the option accepts, and refuses what it refuses',
      (_name, field) => {
        const root = field.where === 'config' ? config : pluginOptionsJsonSchema(byId.get(field.where)!);
        const json = jsonAt(root, field.path);
        const pattern = (json?.anyOf as Json[] | undefined)?.find(
          (branch) => branch.type === 'string',
        )?.pattern;
        expect(typeof pattern).toBe('string');
        expect(json?.anyOf).toContainEqual({ type: 'number', minimum: 0 });
        const regex = new RegExp(pattern);
        const texts = [
          ...(field.marker.unit.startsWith('duration') ? DURATIONS : SIZES).flatMap(
            ([, spellings]) => spellings,
          ),
          '512MB',
          '50%',
          '5 sec',
          'soon',
          ...field.marker.examples,
        ].filter((text): text is string => typeof text === 'string');
        for (const text of texts) {
          // The schema's grammar, not the field's range: parse with the unit's bare grammar.
          const accepted = field.schema.safeParse(text).success || withinGrammarOnly(field, text);
          expect([text, regex.test(text)]).toEqual([text, accepted]);
        }
      },
    );
  });
});

/** Whether `text` is refused only by the field's range (such as at most 1s), not by the grammar. */
function withinGrammarOnly(field: UnitField, text: string): boolean {
  const result = field.schema.safeParse(text);
  if (result.success) return true;
  const message = result.error.issues[0].message;
  return !/^(Invalid (size|duration|share|rate|threshold)|'.*' is (ambiguous|a share))/.test(message);
}
