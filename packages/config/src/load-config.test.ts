import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { SheddingActionFactory, PressureSourceFactory, MemshedError, noOptions } from '@memshed/core';
import { ContainerModule } from '@memshed/core/inversify';
import { z } from '@memshed/options';
import { ConfigError, displayPath } from './config-error';
import { loadConfig } from './load-config';
import { MALFORMED_CONFIGS, VALID_CONFIGS, createCorpusDir, expectedLine, type CorpusCase } from './testing';

const corpus = createCorpusDir();
afterAll(() => corpus.cleanup());

/** Writes a one-off case's files (the first is the config) and returns the config file's path. */
const writeCase = (name: string, files: CorpusCase['files']) => corpus.write({ name, about: '', files });

async function problemsOf(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    if (ConfigError.isConfigError(error)) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

/** Plugins named as in the issue, to check its exact message. */
function issuePlugins(): ContainerModule {
  const action = (id: string) => ({
    id,
    description: id,
    optionsSchema: noOptions,
    create: () => ({ id, run: async () => ({}) }),
  });
  return new ContainerModule(({ bind }) => {
    bind(PressureSourceFactory).toConstantValue({
      id: 'psi',
      description: 'psi',
      optionsSchema: z.strictObject({ window: z.number().min(1).default(2) }),
      create: () => ({
        id: 'psi',
        availability: () => ({ available: true }),
        start: () => undefined,
        stop: () => undefined,
      }),
    });
    for (const id of ['cache-purge', 'gc', 'service-shutdown'])
      bind(SheddingActionFactory).toConstantValue(action(id));
  });
}

describe(loadConfig, () => {
  describe('malformed corpus', () => {
    it('has at least 40 configs, each with its own name', () => {
      expect(MALFORMED_CONFIGS.length).toBeGreaterThanOrEqual(40);
      expect(new Set(MALFORMED_CONFIGS.map((c) => c.name)).size).toBe(MALFORMED_CONFIGS.length);
    });

    it.each(MALFORMED_CONFIGS.map((c) => [c.name, c] as const))(
      '%s: reports the exact first problem',
      async (_name, testCase) => {
        const file = corpus.write(testCase);
        const error = await problemsOf(
          loadConfig({ config: file, safe: testCase.flags?.includes('--safe') }),
        );
        const first = error.issues[0];
        const expected = expectedLine(testCase, dirname(file), (f) => displayPath(f));
        if (typeof expected === 'string') expect(first.message).toBe(expected);
        else expect(first.message).toMatch(expected);
        expect(error.message.split('\n')[0]).toBe(first.message);
        expect(['invalid-config', 'unknown-plugin']).toContain(error.kind);
        if (testCase.path?.startsWith('{file}:')) {
          const at = testCase.path.slice('{file}:'.length).split(':').map(Number);
          expect(first.position).toEqual({ line: at[0], column: at[1] });
        } else {
          expect(first.path).toBe(testCase.path);
        }
      },
    );
  });

  describe('valid corpus', () => {
    it.each(VALID_CONFIGS.map((c) => [c.name, c] as const))(
      '%s: loads and resolves',
      async (_name, testCase) => {
        const file = corpus.write(testCase);
        const loaded = await loadConfig({ config: file });
        expect(loaded.sources.map((s) => [s.use, s.options])).toEqual([
          ['test-pulse', { level: 'medium', every: 100, scope: '/' }],
        ]);
        expect(loaded.recovery).toEqual({ quiet: 2000, scope: '/' });
        expect(loaded.dryRun).toBe(false);
        expect(loaded.actionTimeout).toBe(10_000);
        const [trim, drop] = loaded.policies;
        expect(trim).toMatchObject({ name: 'trim', level: 'medium', for: 500, cooldown: 10_000 });
        expect(trim.do.map((a) => [a.use, a.options])).toEqual([
          ['test-purge', { fraction: 0.5, delay: 0, freed: 1024, outcome: 'continue' }],
          ['test-gc', {}],
        ]);
        expect(drop).toMatchObject({ name: 'drop', level: 'critical', for: 0 });
        expect(drop.cooldown).toBeUndefined();
        expect(drop.do.map((a) => a.use)).toEqual(['test-notify']);
        expect(loaded.plugins.find((p) => p.id === 'test-notify')?.origin).toBe(
          './plugins/single-action.cjs',
        );
      },
    );
  });

  it("gives the issue's exact message for a misspelt action, relative to the working directory", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'memshed-issue-'));
    try {
      writeFileSync(
        join(dir, '.memshedrc.yaml'),
        'sources:\n  - use: psi\npolicies:\n  - when: { level: medium }\n    do:\n      - use: gc\n      - use: cache-prge\n',
      );
      const error = await problemsOf(loadConfig({ cwd: dir, modules: [issuePlugins()], stopDir: dir }));
      expect(error.message).toBe(
        ".memshedrc.yaml: policies[0].do[1].use: unknown action 'cache-prge'. Known: cache-purge, gc, service-shutdown. Did you mean 'cache-purge'?",
      );
      expect(error.kind).toBe('unknown-plugin');
      expect(error.issues[0].position).toEqual({ line: 7, column: 9 });
      expect(MemshedError.is(error, 'unknown-plugin')).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports every problem at once, in file order, each with its line', async () => {
    const error = await problemsOf(
      loadConfig({
        config: writeCase('several-problems', {
          '.memshedrc.yaml':
            'plugins: [./plugins/test-plugins.cjs]\nsources:\n  - use: test-pulse\n    with: { every: 0 }\npolicies:\n  - when: { level: hot, for: 5d }\n    do: []\ndryRun: maybe\n',
        }),
      }),
    );
    expect(error.issues.map((issue) => [issue.path, issue.position?.line])).toEqual([
      ['sources[0].with.every', 4],
      ['policies[0].when.level', 6],
      ['policies[0].when.for', 6],
      ['policies[0].do', 7],
      ['dryRun', 8],
    ]);
    expect(error.message.split('\n')).toHaveLength(5);
  });

  it('takes a config object, with defaults', async () => {
    const loaded = await loadConfig({
      modules: [issuePlugins()],
      config: {
        sources: [{ use: 'psi' }],
        policies: [{ when: { level: 'low' }, do: [{ use: 'gc', timeout: '2s' }] }],
      },
    });
    expect(loaded.filepath).toBeUndefined();
    expect(loaded.recovery).toEqual({ quiet: 5000, scope: '/' });
    expect(loaded.policies[0]).toMatchObject({ name: 'policies[0]', level: 'low', for: 0 });
    expect(loaded.policies[0].do[0]).toMatchObject({ use: 'gc', name: 'gc', timeout: 2000 });
    expect(loaded.sources[0].options).toEqual({ window: 2 });
  });

  it('names a config object as such in its problems', async () => {
    const error = await problemsOf(
      loadConfig({ modules: [issuePlugins()], config: { sources: [{ use: 'pis' }] } }),
    );
    expect(error.message).toBe(
      "<config object>: sources[0].use: unknown source 'pis'. Known: psi. Did you mean 'psi'?",
    );
  });

  it('merges imports: lists add up, later scalars and recovery keys win', async () => {
    const file = writeCase('merge', {
      'app.yaml':
        '$import: [./fleet.yaml]\nrecovery: { scope: /app }\ndryRun: false\npolicies:\n  - name: own\n    when: { level: critical }\n    do: [{ use: test-gc }]\n',
      'fleet.yaml':
        'plugins: [./plugins/test-plugins.cjs]\nsources: [{ use: test-pulse }]\nrecovery: { quiet: 1s }\ndryRun: true\npolicies:\n  - when: { level: low }\n    do: [{ use: test-purge }]\n',
    });
    const loaded = await loadConfig({ config: file });
    expect(loaded.files).toEqual([displayPath(file), displayPath(join(dirname(file), 'fleet.yaml'))]);
    expect(loaded.recovery).toEqual({ quiet: 1000, scope: '/app' });
    expect(loaded.dryRun).toBe(false);
    expect(loaded.policies.map((p) => p.name)).toEqual([
      `${displayPath(join(dirname(file), 'fleet.yaml'))}:policies[0]`,
      'own',
    ]);
    expect(loaded.sources).toHaveLength(1);
  });

  it('reads `optional` of each source (default false), from imports too', async () => {
    const file = writeCase('optional-sources', {
      'app.yaml': '$import: ./kernel.yaml\nsources:\n  - use: test-pulse\n    optional: false\n',
      'kernel.yaml':
        'plugins: [./plugins/test-plugins.cjs]\nsources:\n  - use: test-absent\n    optional: true\n  - use: test-pulse\n',
    });
    const loaded = await loadConfig({ config: file });
    expect(loaded.sources.map((s) => [s.use, s.path, s.optional])).toEqual([
      ['test-absent', 'sources[0]', true],
      ['test-pulse', 'sources[1]', false],
      ['test-pulse', 'sources[0]', false],
    ]);
  });

  it('loads a plugin module named twice only once', async () => {
    const file = writeCase('twice', {
      '.memshedrc.yaml':
        'plugins: [./plugins/test-plugins.cjs, ./plugins/test-plugins.cjs]\nsources: [{ use: test-pulse }]\npolicies:\n  - when: { level: low }\n    do: [{ use: ./plugins/single-action.cjs }, { use: ./plugins/single-action.cjs }]\n',
    });
    const loaded = await loadConfig({ config: file });
    expect(loaded.plugins.filter((p) => p.id === 'test-pulse')).toHaveLength(1);
    expect(loaded.plugins.filter((p) => p.id === 'test-notify')).toHaveLength(1);
  });

  it('loads an ES-module plugin', async () => {
    const file = writeCase('esm-plugin', {
      '.memshedrc.yaml':
        'plugins: [./plugins/test-plugins.cjs, ./plugins/esm-plugin.mjs]\nsources: [{ use: test-pulse }]\npolicies:\n  - when: { level: low }\n    do: [{ use: test-esm }]\n',
    });
    const loaded = await loadConfig({ config: file });
    expect(loaded.policies[0].do[0].use).toBe('test-esm');
    expect(loaded.plugins.find((p) => p.id === 'test-esm')?.origin).toBe('./plugins/esm-plugin.mjs');
  });

  it('refuses a third-party id that a built-in has', async () => {
    const file = writeCase('clash', {
      '.memshedrc.yaml': 'plugins: [./plugins/test-plugins.cjs]\nsources: [{ use: test-pulse }]\n',
    });
    const error = await problemsOf(
      loadConfig({
        config: file,
        modules: [
          new ContainerModule(({ bind }) => {
            bind(SheddingActionFactory).toConstantValue({
              id: 'test-gc',
              description: '',
              optionsSchema: noOptions,
              create: () => ({ id: 'test-gc', run: async () => ({}) }),
            });
          }),
        ],
      }),
    );
    expect(error.issues[0].message).toBe(
      `${displayPath(file)}: plugins[0]: plugin module './plugins/test-plugins.cjs' provides action 'test-gc', which is built in. Remove one of them: ids must be unique`,
    );
  });
});
