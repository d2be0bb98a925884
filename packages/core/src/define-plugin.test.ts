import { definePlugin, type PluginServices } from './define-plugin';
import { MemshedError } from './errors';
import { injectable } from './inversify';
import { createMemshed, loadPlugins, MemshedFacet } from './memshed';
import { SheddingActionFactory, noOptions, type OptionsSchema, type SheddingAction } from './plugin';
import { FakeSource } from './testing';

/** A schema with one numeric option `every`, default 1000. */
const everySchema: OptionsSchema<{ every: number }> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate(value) {
      const every = (value as { every?: unknown }).every ?? 1000;
      return typeof every === 'number' ? { value: { every } } : { issues: [{ message: 'a number' }] };
    },
  },
};

/** An action plugin without options whose factory hands `onCreate` its services; its action does nothing. */
function idleAction(id: string, description: string, onCreate: (services: PluginServices) => void) {
  return definePlugin({
    kind: 'action',
    id,
    description,
    optionsSchema: noOptions,
    create: (_options, services) => {
      onCreate(services);
      return { id, run: async () => ({}) };
    },
  });
}

@injectable()
class Tally {
  count = 0;
}

describe(definePlugin, () => {
  it('binds each declaration as a factory of its kind, creating instances from validated options', async () => {
    const created: number[] = [];
    const module = definePlugin(
      {
        kind: 'source',
        id: 'beat',
        description: 'a beat',
        optionsSchema: everySchema,
        create: (options) => {
          created.push(options.every);
          return new FakeSource('beat');
        },
      },
      {
        kind: 'action',
        id: 'noop',
        description: 'does nothing',
        optionsSchema: noOptions,
        create: (): SheddingAction => ({ id: 'noop', run: async () => ({ summary: 'nothing' }) }),
      },
    );
    const plugins = loadPlugins([module]);
    expect(plugins.sources.map((f) => [f.id, f.description])).toEqual([['beat', 'a beat']]);
    expect(plugins.actions.map((f) => [f.id, f.description])).toEqual([['noop', 'does nothing']]);

    const memshed = await createMemshed({
      modules: [module],
      sources: [{ use: 'beat', with: { every: 250 } }],
    });
    expect(created).toEqual([250]);
    expect(memshed.sources.map((s) => [s.id, s.state])).toEqual([['beat', 'running']]);
    const record = await memshed.runner.run(plugins.actions[0].create({}), { level: 'low' });
    expect(record).toMatchObject({ action: 'noop', status: 'ok', summary: 'nothing' });
    await memshed.stop();
  });

  it("binds the declaration's shared services and hands them to create, one per container", () => {
    const module = definePlugin({
      kind: 'action',
      id: 'count',
      description: 'counts runs in a shared tally',
      optionsSchema: noOptions,
      bind: ({ bind }) => {
        bind(Tally).toSelf().inSingletonScope();
        bind<MemshedFacet>(MemshedFacet).toConstantValue({
          property: 'tally',
          resolve: (container) => container.get(Tally),
        });
      },
      create: (_options, services) => {
        const tally = services.get(Tally);
        return { id: 'count', run: async () => ({ summary: `run ${++tally.count}` }) };
      },
    });
    const one = loadPlugins([module]);
    const two = loadPlugins([module]);
    void one.actions[0].create({}).run({} as never);
    void one.actions[0].create({}).run({} as never);
    expect(one.container.get(Tally).count).toBe(2);
    expect(two.container.get(Tally).count).toBe(0);
  });

  it('finds an optional service, undefined when the application bound none', () => {
    const seen: unknown[] = [];
    const module = idleAction('peek', 'peeks', (services) => {
      seen.push(services.find(Tally));
    });
    loadPlugins([module]).actions[0].create({});
    expect(seen).toEqual([undefined]);
  });

  it('runs the releases registered with onStop when memshed stops, even after one throws', async () => {
    const released: string[] = [];
    const module = idleAction('watching', 'keeps a watch between runs', (services) => {
      services.onStop(() => {
        released.push('first');
        throw new Error('clean-up bug');
      });
      services.onStop(() => void released.push('second'));
    });
    const memshed = await createMemshed({ modules: [module] });
    memshed.container.getAll<SheddingActionFactory>(SheddingActionFactory)[0].create({});
    expect(released).toEqual([]);
    await memshed.stop();
    expect(released).toEqual(['first', 'second']);
  });

  it('rejects a malformed declaration when the module is defined', () => {
    expect(() => (definePlugin as () => unknown)()).toThrow('definePlugin() needs at least one declaration');
    const bad = { kind: 'sink', id: 'x', description: '', optionsSchema: noOptions, create: () => ({}) };
    expect(() => definePlugin(bad as never)).toThrow(MemshedError);
    expect(() => definePlugin(bad as never)).toThrow('definePlugin() declaration 0 has kind "sink"');
    const action = { kind: 'action', id: 'a', description: '', optionsSchema: noOptions, create: () => ({}) };
    expect(() => definePlugin(action as never, action as never)).toThrow(
      "definePlugin() declares the action 'a' twice",
    );
    expect(() => definePlugin({ ...action, id: '' } as never)).toThrow(
      'definePlugin() declaration 0 has no id',
    );
  });
});
