import { didYouMean, PRESSURE_LEVELS, type PressureLevel } from '@memshed/core';
import { describeValue, durationOption, z } from '@memshed/options';

// The policy part of memshed config, shared by config files and simulation scenarios so that a
// policy means the same in both.

/**
 * A duration as written in config or a scenario, parsed to milliseconds: memshed's one duration
 * option (`'500ms'`, `'5s'`, `'2m'`, `'1h'`, or a number of milliseconds such as `5000`).
 */
export const durationSchema = durationOption;

function levelProblem(value: unknown): string {
  const known = PRESSURE_LEVELS.join(', ');
  if (value === undefined) return `required: one of ${known}`;
  if (value === 'normal') {
    return `'normal' is not a pressure level: policies run on pressure. Use one of ${known}`;
  }
  const suggestion = typeof value === 'string' ? didYouMean(value, [...PRESSURE_LEVELS]) : undefined;
  return `expected one of ${known}, got ${describeValue(value)}${suggestion ? `. Did you mean '${suggestion}'?` : ''}`;
}

/** `low`, `medium` or `critical`: nothing else. */
export const levelSchema = z.enum(PRESSURE_LEVELS as [PressureLevel, ...PressureLevel[]], {
  error: (issue) => levelProblem(issue.input),
});

/** A plugin id (`cache-purge`) or module specifier (`./my-action.js`), as `use:` takes it. */
export const pluginNameSchema = z
  .string({ error: (issue) => `expected a plugin id or module, got ${describeValue(issue.input)}` })
  .min(1, { error: 'empty: name a plugin id (e.g. psi) or a module (e.g. ./my-plugin.js)' });

/** A scope path of the engine's tree: `/`, `/app`. */
export const scopeSchema = z
  .string({
    error: (issue) => `expected a scope path such as '/' or '/app', got ${describeValue(issue.input)}`,
  })
  .refine((value) => value.startsWith('/'), {
    error: (issue) => `expected a scope path starting with '/', got ${describeValue(issue.input)}`,
  });

/** `{ use, with, name, timeout }`: one action of a policy's chain. */
export const actionEntrySchema = z
  .strictObject({
    use: pluginNameSchema.describe(
      'The action plugin: a built-in id (cache-purge, gc, ...) or a module path.',
    ),
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
        'Limits the policy to one run per cooldown: while the condition holds, it runs again this long after each run ends. Without it, the policy keeps up: while the condition holds, it runs again on the first new pressure event after each run (with backoff when a run frees nothing).',
      ),
    dryRun: z
      .boolean()
      .optional()
      .describe("Only report what the actions would do. Default: the config's dryRun."),
  })
  .describe('A shedding policy.');

/** A parsed policy. */
export type PolicyConfig = z.output<typeof policySchema>;
/** A parsed action entry. */
export type ActionEntryConfig = z.output<typeof actionEntrySchema>;
