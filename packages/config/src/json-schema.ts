import type { PressureSourceFactory, SheddingActionFactory } from '@memshed/core';
import { MARKER_KEYS, partOf, unitOf, z, type UnitKind } from '@memshed/options';
import { configFileSchema } from './config-schema';
import { isZodSchema } from './schema-issues';

type JsonSchema = Record<string, unknown>;

/** The plugins whose options the JSON Schema describes. */
export interface SchemaPlugins {
  readonly sources: readonly PressureSourceFactory[];
  readonly actions: readonly SheddingActionFactory[];
}

/**
 * The JSON Schema (draft-07, which editors support best) of a memshed config file, with every
 * plugin's `with` options (zod schemas; others are left open), so that editors complete and check
 * `.memshedrc.json` and `.memshedrc.yaml` that name it in `$schema`
 * (`# yaml-language-server: $schema=...` for YAML).
 */
export function configJsonSchema(plugins: SchemaPlugins): JsonSchema {
  const schema = toJson(configFileSchema, 'input');
  const properties = schema.properties as Record<string, JsonSchema>;
  const sources = properties.sources as { items: JsonSchema };
  sources.items = withPlugins(sources.items, plugins.sources, 'source');
  const policy = (properties.policies as { items: { properties: Record<string, { items: JsonSchema }> } })
    .items;
  policy.properties.do.items = withPlugins(policy.properties.do.items, plugins.actions, 'action');
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'memshed configuration',
    ...withoutDialect(schema),
    description:
      'Pressure sources, recovery and shedding policies for memshed. Durations: 500ms, 5s, 2m, 1h, or milliseconds. Sizes: 512M, 512Mi, 512MiB, or bytes (powers of 1024). Levels: low, medium, critical.',
  };
}

function toJson(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  return z.toJSONSchema(schema, {
    target: 'draft-7',
    io,
    unrepresentable: 'any',
    override: (context) => {
      const json = context.jsonSchema as JsonSchema;
      const unit = unitOf(context.zodSchema);
      const part = partOf(context.zodSchema);
      for (const key of MARKER_KEYS) delete json[key];
      if (unit) {
        // The parser's own grammar, as a pattern: editors then refuse what memshed would refuse.
        const { description } = json;
        for (const key of Object.keys(json)) delete json[key];
        Object.assign(json, {
          anyOf: [
            { type: 'number', minimum: 0 },
            { type: 'string', pattern: unit.pattern },
          ],
          description: [description, UNIT_HELP[unit.unit], unit.help].filter(Boolean).join(' '),
          examples: [...unit.examples],
        });
      } else if (part) {
        const { description } = json;
        for (const key of Object.keys(json)) delete json[key];
        Object.assign(json, {
          anyOf: [{ const: false }, withoutDialect(toJson(part, io))],
          ...(description ? { description } : {}),
        });
      }
    },
  }) as JsonSchema;
}

const SIZES =
  'A number of bytes, or a size with a binary unit: 512K, 512M, 512Mi, 512MiB, 1.5GiB (powers of 1024; 512MB is refused as ambiguous).';
const DURATIONS = 'A number of milliseconds, or a duration: 500ms, 5s, 2m, 1h.';

/** What each kind of unit option takes, appended to the option's own description. */
const UNIT_HELP: Readonly<Record<UnitKind, string>> = {
  bytes: SIZES,
  'bytes-or-percent': `${SIZES} Or a share of the limit: 75%.`,
  rate: 'A size per second (2MiB/s, or per minute: 30MiB/m), or a number of bytes per second.',
  duration: DURATIONS,
  'duration-or-never': `${DURATIONS} Or never.`,
};

/** The `format` values of draft-07; zod also writes its own (`starts_with`), which validators refuse. */
const STANDARD_FORMATS = new Set([
  'date-time',
  'date',
  'time',
  'email',
  'idn-email',
  'hostname',
  'idn-hostname',
  'ipv4',
  'ipv6',
  'uri',
  'uri-reference',
  'iri',
  'iri-reference',
  'uri-template',
  'json-pointer',
  'relative-json-pointer',
  'regex',
  'uuid',
]);

function withoutDialect(schema: JsonSchema): JsonSchema {
  const { $schema: _dialect, ...rest } = schema;
  return withStandardFormats(rest) as JsonSchema;
}

function withStandardFormats(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withStandardFormats);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'format' && typeof inner === 'string' && !STANDARD_FORMATS.has(inner)) continue;
    out[key] = withStandardFormats(inner);
  }
  return out;
}

function withPlugins(
  entry: JsonSchema,
  factories: readonly (PressureSourceFactory | SheddingActionFactory)[],
  kind: 'source' | 'action',
): JsonSchema {
  const properties = { ...(entry.properties as Record<string, JsonSchema>) };
  const ids = [...factories].map((factory) => factory.id).sort();
  properties.use = {
    description: properties.use?.description,
    anyOf: [
      ...(ids.length ? [{ enum: ids }] : []),
      {
        type: 'string',
        pattern: '^(\\.{1,2}/|/|@)',
        description: `A module path (./my-${kind}.js) or scoped package that exports a plugin.`,
      },
      ...(ids.length ? [] : [{ type: 'string' }]),
    ],
  };
  const byId = [...factories].sort((a, b) => a.id.localeCompare(b.id));
  return {
    ...entry,
    properties,
    allOf: byId.map((factory) => ({
      if: { properties: { use: { const: factory.id } }, required: ['use'] },
      then: {
        description: factory.description,
        properties: { with: optionsJson(factory) },
      },
    })),
  };
}

/**
 * The JSON Schema (draft-07, input side: what config may write) of one plugin's options, with its
 * description; an open schema when the plugin's options are not a zod schema.
 */
export function pluginOptionsJsonSchema(factory: PressureSourceFactory | SheddingActionFactory): JsonSchema {
  return optionsJson(factory);
}

function optionsJson(factory: PressureSourceFactory | SheddingActionFactory): JsonSchema {
  const schema = factory.optionsSchema;
  if (!isZodSchema(schema))
    return { description: `Options of ${factory.id} (not described by a JSON Schema).` };
  try {
    return {
      description: `Options of ${factory.id}: ${factory.description}`,
      ...withoutDialect(toJson(schema, 'input')),
    };
  } catch {
    return { description: `Options of ${factory.id} (its schema cannot be written as JSON Schema).` };
  }
}
