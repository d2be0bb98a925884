import { MemshedError, type SheddingAction, type SheddingActionFactory } from '@memshed/core';
import { z } from '@memshed/options';
import { compilePolicies, toActionSpec, toPolicySpec, type PolicySpec } from './compile-policies';
import { policySchema } from './policy-schema';

/** A factory that counts the actions it creates. */
function countingFactory(id: string): SheddingActionFactory & { created: unknown[] } {
  const created: unknown[] = [];
  return {
    id,
    description: `test action ${id}`,
    optionsSchema: z.strictObject({ fraction: z.number().default(0.5) }),
    created,
    create(options: unknown): SheddingAction {
      created.push(options);
      return { id, run: async () => ({}) };
    },
  };
}

function spec(name: string, actions: PolicySpec['do'], extra: Partial<PolicySpec> = {}): PolicySpec {
  return { name, level: 'medium', for: 0, do: actions, ...extra };
}

describe(compilePolicies, () => {
  it('shares one action instance between policies naming the same plugin with the same options', () => {
    const purge = countingFactory('purge');
    const compiled = compilePolicies(
      [
        spec('a', [{ use: 'purge', options: { fraction: 0.5 }, name: 'purge' }]),
        spec('b', [
          { use: 'purge', options: { fraction: 0.5 }, name: 'again' },
          { use: 'purge', options: { fraction: 1 }, name: 'all' },
        ]),
      ],
      [purge],
    );
    expect(purge.created).toEqual([{ fraction: 0.5 }, { fraction: 1 }]);
    expect(compiled[1].steps[0].action).toBe(compiled[0].steps[0].action);
    expect(compiled[1].steps[1].action).not.toBe(compiled[0].steps[0].action);
    expect(compiled[1].steps.map((step) => step.name)).toEqual(['again', 'all']);
  });

  it("keeps a policy's dry run and timing, unless every policy is forced to dry-run", () => {
    const gc = countingFactory('gc');
    const policy = spec('p', [{ use: 'gc', options: {}, name: 'gc', timeout: 500 }], {
      dryRun: false,
      cooldown: 10_000,
      scope: '/app',
    });
    expect(compilePolicies([policy], [gc])[0]).toMatchObject({
      name: 'p',
      level: 'medium',
      for: 0,
      cooldown: 10_000,
      scope: '/app',
      dryRun: false,
      steps: [{ name: 'gc', timeout: 500 }],
    });
    expect(compilePolicies([policy], [gc], { forceDryRun: true })[0].dryRun).toBeUndefined();
  });

  it('names the policy and the loaded actions when an action has no factory', () => {
    const error = (() => {
      try {
        compilePolicies(
          [spec('trim', [{ use: 'cache-prge', options: {}, name: 'x' }])],
          [countingFactory('gc')],
        );
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(MemshedError.is(error, 'unknown-plugin')).toBe(true);
    expect((error as MemshedError).message).toBe(
      "Policy 'trim': no action plugin 'cache-prge'. Fix: load the module that provides it; loaded actions: gc",
    );
  });
});

describe(toPolicySpec, () => {
  it('turns a parsed policy into a spec, durations in ms and unset keys left out', () => {
    const parsed = policySchema.parse({
      when: { level: 'critical', for: '2s' },
      do: [{ use: 'gc', name: 'collect', timeout: '1s' }],
    });
    const actions = parsed.do.map((entry) => toActionSpec(entry, entry.use, { trim: true }));
    expect(toPolicySpec(parsed, 'policies[0]', actions)).toEqual({
      name: 'policies[0]',
      level: 'critical',
      for: 2000,
      do: [{ use: 'gc', options: { trim: true }, name: 'collect', timeout: 1000 }],
    });
  });
});
