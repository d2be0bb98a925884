import { PRESSURE_LEVELS, type PressureLevel } from '@memshed/core';
import { durationOption, z } from '@memshed/options';
import { describeValue } from './config-error';
import { didYouMean } from './suggest';

/**
 * A duration as written in config, parsed to milliseconds: memshed's one duration option
 * (`'500ms'`, `'5s'`, `'2m'`, `'1h'`, or a number of milliseconds such as `5000`).
 */
export const durationSchema = durationOption;

function levelProblem(value: unknown): string {
  const known = PRESSURE_LEVELS.join(', ');
  if (value === undefined) return `required: one of ${known}`;
  if (value === 'normal') {
    return `'normal' is not a pressure level: policies run on pressure. Use one of ${known}`;
  }
  const suggestion = typeof value === 'string' ? didYouMean(value, PRESSURE_LEVELS) : undefined;
  return `expected one of ${known}, got ${describeValue(value)}${suggestion ? `. Did you mean '${suggestion}'?` : ''}`;
}

/** `low`, `medium` or `critical`: nothing else. */
export const levelSchema = z.enum(PRESSURE_LEVELS as [PressureLevel, ...PressureLevel[]], {
  error: (issue) => levelProblem(issue.input),
});

const pluginName = z
  .string({ error: (issue) => `expected a plugin id or module, got ${describeValue(issue.input)}` })
  .min(1, { error: 'empty: name a plugin id (e.g. psi) or a module (e.g. ./my-plugin.js)' });

const scopeSchema = z
  .string({
    error: (issue) => `expected a scope path such as '/' or '/app', got ${describeValue(issue.input)}`,
  })
  .refine((value) => value.startsWith('/'), {
    error: (issue) => `expected a scope path starting with '/', got ${describeValue(issue.input)}`,
  });

/** `{ use, with }`: a source by plugin id (or module), with its plugin's options. */
export const sourceEntrySchema = z
  .strictObject({
    use: pluginName.describe('The source plugin: a built-in id (psi, cgroup-v1, ...) or a module path.'),
    with: z.unknown().optional().describe("The plugin's options, checked by its own schema."),
  })
  .describe('A pressure source.');

/** `{ use, with, name, timeout }`: one action of a policy's chain. */
export const actionEntrySchema = z
  .strictObject({
    use: pluginName.describe('The action plugin: a built-in id (cache-purge, gc, ...) or a module path.'),
    with: z.unknown().optional().describe("The plugin's options, checked by its own schema."),
    name: z.string().min(1).optional().describe('Name in logs and records. Default: the plugin id.'),
    timeout: durationSchema
      .optional()
      .describe("Time budget of this action. Default: the config's actionTimeout."),
  })
  .describe('One action of a chain. Its outcome `stop` ends the chain; anything else goes on to the next.');

/** `when: { level, for, scope }`. */
export const whenSchema = z
  .strictObject({
    level: levelSchema.describe('Run when the pressure state is at or above this level.'),
    for: durationSchema
      .default(0)
      .describe('...and has stayed there continuously this long (recovery included). Default 0s.'),
    scope: scopeSchema
      .optional()
      .describe("Watch this scope (e.g. '/app') and below instead of the whole tree, with its own recovery."),
  })
  .describe('The condition of a policy.');

/** One policy: a condition and a chain of actions. */
export const policySchema = z
  .strictObject({
    name: z.string().min(1).optional().describe('Name in logs and records; unique. Default: policies[i].'),
    when: whenSchema,
    do: z
      .array(actionEntrySchema, {
        error: (issue) =>
          issue.input === undefined
            ? 'required: a list of actions, e.g. [{ use: gc }]'
            : `expected a list of actions, got ${describeValue(issue.input)}`,
      })
      .min(1, { error: 'empty chain: a policy needs at least one action, e.g. - use: gc' })
      .describe('The actions, run in order until one says stop.'),
    cooldown: durationSchema
      .optional()
      .describe(
        'Time after a run ends before the policy may run again; while the condition holds, it runs again every cooldown. Without it, the policy runs once each time the condition starts to hold.',
      ),
    dryRun: z
      .boolean()
      .optional()
      .describe("Only report what the actions would do. Default: the config's dryRun."),
  })
  .describe('A shedding policy.');

/** `recovery: { quiet, renotify, scope }`: how the monitor's state returns to normal. */
export const recoverySchema = z
  .strictObject({
    quiet: durationSchema
      .default(5000)
      .describe(
        'Time without events at the current level before the state steps down one level. Default 5s.',
      ),
    renotify: durationSchema
      .optional()
      .describe('Repeat the current state this often while above normal (notifications$).'),
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
/** A parsed policy. */
export type PolicyConfig = z.output<typeof policySchema>;
/** A parsed action entry. */
export type ActionEntryConfig = z.output<typeof actionEntrySchema>;
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
