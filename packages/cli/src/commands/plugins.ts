import {
  ConfigError,
  loadBuiltinPlugins,
  loadConfig,
  pluginOptionsJsonSchema,
  type ConfigPlugin,
} from '@memshed/config';
import { ExitCode } from '../exit-codes';
import { writeLine, type CliIo } from '../io';
import { reportConfigError } from './validate';

/** Options of `memshed plugins`. */
export interface PluginsOptions {
  config?: string;
  safe?: boolean;
  json?: boolean;
}

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
};

/** `memshed plugins [ID] [--config FILE] [--json]`: the plugins a config can name, with their options. */
export async function listPlugins(
  id: string | undefined,
  options: PluginsOptions,
  io: CliIo,
): Promise<ExitCode> {
  let plugins: readonly ConfigPlugin[];
  if (options.config !== undefined) {
    try {
      plugins = (await loadConfig({ config: options.config, safe: options.safe ?? false })).plugins;
    } catch (error) {
      if (!ConfigError.isConfigError(error)) throw error;
      reportConfigError(error, io, false);
      return ExitCode.Usage;
    }
  } else {
    const { sources, actions } = loadBuiltinPlugins();
    plugins = [
      ...sources.map((factory) => ({
        kind: 'source' as const,
        id: factory.id,
        factory,
        origin: 'built-in',
      })),
      ...actions.map((factory) => ({
        kind: 'action' as const,
        id: factory.id,
        factory,
        origin: 'built-in',
      })),
    ];
  }
  const shown = id === undefined ? plugins : plugins.filter((plugin) => plugin.id === id);
  if (id !== undefined && shown.length === 0) {
    writeLine(
      io.stderr,
      `memshed: no plugin '${id}'. Known: ${
        plugins
          .map((p) => p.id)
          .sort()
          .join(', ') || 'none'
      }`,
    );
    return ExitCode.Usage;
  }
  const rows = shown.map((plugin) => ({
    kind: plugin.kind,
    id: plugin.id,
    description: plugin.factory.description,
    origin: plugin.origin,
    options: pluginOptionsJsonSchema(plugin.factory) as JsonSchema,
  }));
  if (options.json) {
    writeLine(io.stdout, JSON.stringify({ plugins: rows }));
  } else if (rows.length === 0) {
    writeLine(io.stdout, 'No plugins are installed.');
  } else {
    const width = Math.max(...rows.map((row) => row.id.length));
    for (const row of rows) {
      const origin = row.origin === 'built-in' ? '' : `  [${row.origin}]`;
      writeLine(io.stdout, `${row.kind.padEnd(6)}  ${row.id.padEnd(width)}  ${row.description}${origin}`);
      for (const line of optionLines(row.options)) writeLine(io.stdout, `${' '.repeat(width + 10)}${line}`);
    }
  }
  return ExitCode.Ok;
}

/** One line per option: `name  type = default  description`. */
function optionLines(schema: JsonSchema): string[] {
  const properties = Object.entries(schema.properties ?? {});
  if (properties.length === 0) return schema.properties ? ['(no options)'] : [];
  const width = Math.max(...properties.map(([name]) => name.length));
  return properties.map(([name, property]) => {
    const fallback = property.default === undefined ? '' : ` = ${JSON.stringify(property.default)}`;
    const description = property.description ? `  ${property.description.split('\n')[0]}` : '';
    return `${name.padEnd(width)}  ${typeOf(property)}${fallback}${description}`;
  });
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum)
    return schema.enum.map((value) => (typeof value === 'string' ? value : JSON.stringify(value))).join('|');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.anyOf) return [...new Set(schema.anyOf.map(typeOf))].join('|');
  const type = Array.isArray(schema.type) ? schema.type.join('|') : (schema.type ?? 'any');
  if (type === 'array') return `${typeOf(schema.items ?? {})}[]`;
  // Bounds at the safe-integer limits say nothing to a reader.
  const bound = (value: number | undefined) =>
    value === undefined || Math.abs(value) >= Number.MAX_SAFE_INTEGER ? '' : String(value);
  const [min, max] = [bound(schema.minimum), bound(schema.maximum)];
  const range = min || max ? ` ${min}..${max}` : '';
  return `${type}${range}`;
}
