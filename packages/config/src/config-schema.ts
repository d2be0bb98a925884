import { z } from '@memshed/options';
import { durationSchema, pluginNameSchema as pluginName, policySchema, scopeSchema } from '@memshed/policy';
import { describeValue } from './config-error';

// The policy schemas live in @memshed/policy, which the simulator's scenarios share; re-exported
// here because config files are where users meet them.
export { actionEntrySchema, durationSchema, levelSchema, policySchema, whenSchema } from '@memshed/policy';
export type { ActionEntryConfig, PolicyConfig } from '@memshed/policy';

/**
 * `{ use, with, optional }`: a source by plugin id (or module), with its plugin's options, and
 * whether it may be unavailable on this machine without that being an error.
 */
export const sourceEntrySchema = z
  .strictObject({
    use: pluginName.describe('The source plugin: a built-in id (psi, cgroup-v1, ...) or a module path.'),
    with: z.unknown().optional().describe("The plugin's options, checked by its own schema."),
    optional: z
      .boolean()
      .default(false)
      .describe(
        'Skip this source, without an error, where it is unavailable (e.g. cgroup-v1 on a cgroup v2 host): one config then serves machines of both kinds. Failing to start or while running is still an error. Default false.',
      ),
  })
  .describe('A pressure source.');

/** `recovery: { quiet, scope }`: how the monitor's state returns to normal. */
export const recoverySchema = z
  .strictObject({
    quiet: durationSchema
      .default(5000)
      .describe(
        'Time without events at the current level before the state steps down one level. Default 5s.',
      ),
    scope: scopeSchema.default('/').describe("The scope whose events drive the state. Default '/'."),
  })
  .describe("How the monitor's state returns to normal.");

const importSchema = z
  .union([z.string().min(1), z.array(z.string().min(1))], {
    error: (issue) => `expected a file path or a list of them, got ${describeValue(issue.input)}`,
  })
  .describe('JSON or YAML files merged under this one, paths relative to this file.');

/**
 * The shape of one config file, before plugin ids are resolved: every key optional, unknown keys
 * refused. `with` options are checked afterwards by each plugin's own schema.
 */
export const configFileSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema, for editors.'),
    $import: importSchema.optional(),
    plugins: z
      .array(pluginName)
      .optional()
      .describe('Third-party plugin modules: package names or paths relative to this file.'),
    sources: z.array(sourceEntrySchema).optional().describe('Where pressure comes from. At least one.'),
    recovery: recoverySchema.optional(),
    policies: z.array(policySchema).optional().describe('What to do under pressure.'),
    dryRun: z.boolean().optional().describe('Only report what actions would do. Default false.'),
    actionTimeout: durationSchema.optional().describe('Default time budget of every action. Default 10s.'),
  })
  .describe('memshed configuration');

/** One config file as written (durations as strings). */
export type MemshedConfigInput = z.input<typeof configFileSchema>;
/** One config file, parsed: durations in milliseconds, defaults of nested objects applied. */
export type MemshedConfigFile = z.output<typeof configFileSchema>;
/** A parsed source entry. */
export type SourceEntryConfig = z.output<typeof sourceEntrySchema>;

/**
 * Types a config written in TypeScript or JavaScript, for editor completion; returns it unchanged.
 *
 * @example
 * // memshed.config.ts
 * import { defineConfig } from '@memshed/config';
 * export default defineConfig({ sources: [{ use: 'psi' }], policies: [{ when: { level: 'critical' }, do: [{ use: 'gc' }] }] });
 */
export function defineConfig(config: MemshedConfigInput): MemshedConfigInput {
  return config;
}
