import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SheddingActionFactory, noOptions } from '@memshed/core';
import { z } from '@memshed/options';
import { configJsonSchema } from './json-schema';
import { loadBuiltinPlugins } from './plugin-modules';

type Schema = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe(configJsonSchema, () => {
  it('is what memshed.schema.json holds (regenerate: npx tsc -b && npm run schema -w @memshed/config)', () => {
    const file = JSON.parse(readFileSync(join(__dirname, '..', 'memshed.schema.json'), 'utf8')) as Schema;
    expect(file).toEqual(configJsonSchema(loadBuiltinPlugins(__dirname)));
  });

  it("describes each plugin's options under its id, and the shape of the config", () => {
    const action: SheddingActionFactory = {
      id: 'trim',
      description: 'trims',
      optionsSchema: z.strictObject({ fraction: z.number().min(0).max(1).default(0.5) }),
      create: () => ({ id: 'trim', run: async () => ({}) }),
    };
    const bare: SheddingActionFactory = { ...action, id: 'bare', optionsSchema: noOptions };
    const schema = configJsonSchema({ sources: [], actions: [action, bare] }) as Schema;
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.additionalProperties).toBe(false);
    const step = schema.properties.policies.items.properties.do.items;
    expect(step.properties.use.anyOf[0]).toEqual({ enum: ['bare', 'trim'] });
    const trim = step.allOf.find((rule: Schema) => rule.if.properties.use.const === 'trim');
    expect(trim.then.properties.with).toMatchObject({
      type: 'object',
      additionalProperties: false,
      properties: { fraction: { type: 'number', minimum: 0, maximum: 1, default: 0.5 } },
    });
    const bareRule = step.allOf.find((rule: Schema) => rule.if.properties.use.const === 'bare');
    expect(bareRule.then.properties.with.description).toMatch(/not described by a JSON Schema/);
    const level = schema.properties.policies.items.properties.when.properties.level;
    expect(level.enum).toEqual(['low', 'medium', 'critical']);
    const duration = schema.properties.policies.items.properties.cooldown;
    expect(duration.anyOf).toEqual([
      { type: 'number', minimum: 0 },
      { type: 'string', pattern: '^\\s*\\d+(?:\\.\\d+)?\\s*(?:ms|s|m|h)?\\s*$' },
    ]);
    expect(JSON.stringify(schema)).not.toMatch(/"format":"starts_with"/);
  });
});
