import { createCorpusDir } from '@memshed/config/testing';
import { ExitCode } from '../exit-codes';
import { main } from '../main';
import { bufferIo } from '../testing-io';

const corpus = createCorpusDir();
afterAll(() => corpus.cleanup());

const config = () =>
  corpus.write({
    name: 'plugins',
    about: '',
    files: {
      '.memshedrc.yaml':
        'plugins: [./plugins/test-plugins.cjs]\nsources: [{ use: test-pulse }]\npolicies:\n  - when: { level: low }\n    do: [{ use: ./plugins/single-action.cjs }]\n',
    },
  });

describe('memshed plugins', () => {
  it('lists built-in plugins with their options as JSON', async () => {
    const io = bufferIo();
    expect(await main(['plugins', '--json'], io)).toBe(ExitCode.Ok);
    const { plugins } = JSON.parse(io.out()) as {
      plugins: { kind: string; id: string; origin: string; options: object }[];
    };
    for (const plugin of plugins) {
      expect(['source', 'action']).toContain(plugin.kind);
      expect(plugin.origin).toBe('built-in');
      expect(typeof plugin.options).toBe('object');
    }
  });

  it("adds the plugins a config names, with where they come from and each option's type and default", async () => {
    const io = bufferIo();
    expect(await main(['plugins', '--config', config()], io)).toBe(ExitCode.Ok);
    const out = io.out();
    expect(out).toMatch(
      /^source +test-pulse +test: signals a level on a timer +\[\.\/plugins\/test-plugins\.cjs\]$/m,
    );
    expect(out).toMatch(/^ +level +low\|medium\|critical = "critical"$/m);
    expect(out).toMatch(/^ +every +integer 1\.\.60000 = 50$/m);
    expect(out).toMatch(/^ +fraction +number 0\.\.1 = 0\.5$/m);
    expect(out).toMatch(/^action +test-notify +test: says it ran +\[\.\/plugins\/single-action\.cjs\]$/m);
  });

  it('shows one plugin by id, as JSON with its options schema', async () => {
    const io = bufferIo();
    expect(await main(['plugins', 'test-purge', '--config', config(), '--json'], io)).toBe(ExitCode.Ok);
    const { plugins } = JSON.parse(io.out()) as {
      plugins: { id: string; options: { properties: Record<string, object> } }[];
    };
    expect(plugins.map((p) => p.id)).toEqual(['test-purge']);
    expect(plugins[0].options.properties.fraction).toEqual({
      type: 'number',
      minimum: 0,
      maximum: 1,
      default: 0.5,
    });
  });

  it('exits 2 for an unknown id, naming the known ones', async () => {
    const io = bufferIo();
    expect(await main(['plugins', 'nope', '--config', config()], io)).toBe(ExitCode.Usage);
    expect(io.err()).toMatch(/^memshed: no plugin 'nope'\. Known: .*test-pulse/);
  });

  it('exits 2 for a bad config', async () => {
    const io = bufferIo();
    const file = corpus.write({
      name: 'plugins-bad',
      about: '',
      files: { '.memshedrc.yaml': 'plugins: [./plugins/missing.cjs]\n' },
    });
    expect(await main(['plugins', '--config', file], io)).toBe(ExitCode.Usage);
    expect(io.err()).toMatch(/plugins\[0\]: cannot find plugin module '\.\/plugins\/missing\.cjs'/);
  });
});
