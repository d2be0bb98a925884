import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT as root, runBuiltNode } from './support/run-built-node';

// memshed's start-up path loads inversify, zod and yaml as one file each
// (scripts/bundle-vendored.mjs), not as the 245, 95 and 72 module files of the packages, and only
// the RxJS modules it uses (@memshed/core/rx), not the 223 of the rxjs index (docs/benchmarks.md,
// footprint); so do the CLI's commands, which load the simulator among the built-in plugins. These run the
// built packages (npm test builds first) in a fresh node, the way an application loads them: jest's
// module registry would hide which files node loads, and unit tests run the sources, where
// `@memshed/core/inversify` is the inversify package itself.
const BUNDLES = [
  'packages/core/dist/inversify.js',
  'packages/options/dist/zod.js',
  'packages/options/dist/yaml.js',
];
const YAML_BUNDLE = 'packages/options/dist/yaml.js';

/** A script prelude that records every file node's resolver returns, in `resolved`. */
const RECORD_RESOLVED = `
  const Module = require('node:module');
  const resolved = [];
  const resolve = Module._resolveFilename;
  Module._resolveFilename = function (...args) {
    const file = resolve.apply(this, args);
    resolved.push(file);
    return file;
  };
`;

function runNode(script: string) {
  const result = runBuiltNode(script);
  if (result.status !== 0) throw new Error(`node exited ${result.status ?? result.signal}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** Runs the built CLI's `main(argv)` in a fresh node: exit code, output, files loaded (from the root). */
function runCli(argv: string[]): { code: number; text: string; loaded: string[] } {
  const report = runNode(`
    const { PassThrough } = require('node:stream');
    const output = new PassThrough();
    let text = '';
    output.on('data', (data) => (text += data));
    require('./packages/cli/dist/main.js')
      .main(${JSON.stringify(argv)}, { stdout: output, stderr: output, isTTY: false })
      .then((code) => console.log(JSON.stringify({ code, text, loaded: Object.keys(require.cache) })));
  `);
  return {
    code: report.code as number,
    text: report.text as string,
    loaded: (report.loaded as string[]).map((file) => path.relative(root, file)),
  };
}

beforeAll(() => {
  for (const bundle of BUNDLES) {
    if (!existsSync(path.join(root, bundle)))
      throw new Error(`${bundle} is missing: run npm run build first`);
  }
});

describe('the start-up path', () => {
  it('loads inversify and zod only as the bundled files, never from the packages, nor the rxjs index', () => {
    const report = runNode(`
      ${RECORD_RESOLVED}
      const { createMemshed, SheddingActionFactory, validateOptions } = require('@memshed/core');
      const cgroupV1 = require('@memshed/source-cgroup-v1');
      const gc = require('@memshed/action-gc');
      require('@memshed/options');
      (async () => {
        const memshed = await createMemshed({ modules: [cgroupV1.default, gc.default] });
        const factory = memshed.container.getAll(SheddingActionFactory).find((f) => f.id === 'gc');
        const good = validateOptions(factory.optionsSchema, { minInterval: '2s', settleBytes: '2M' });
        const bad = validateOptions(factory.optionsSchema, { maxCollections: 'many' });
        factory.create(good.value);
        await memshed.stop();
        console.log(JSON.stringify({
          resolved,
          cached: Object.keys(require.cache),
          good: good.ok && [good.value.minInterval, good.value.settleBytes],
          bad: bad.ok ? null : bad.issues,
        }));
      })();
    `);
    const fromPackages = (report.resolved as string[]).filter((file) =>
      /\/node_modules\/(inversify|@inversifyjs\/[^/]+|zod)\//.test(file),
    );
    expect(fromPackages).toEqual([]);
    const cached = (report.cached as string[]).map((file) => path.relative(root, file));
    // No config on this path: @memshed/options does not load its yaml subpath.
    expect(cached).toEqual(expect.arrayContaining(BUNDLES.filter((file) => file !== YAML_BUNDLE)));
    expect(cached).not.toContain(YAML_BUNDLE);
    expect(cached).not.toContain('node_modules/rxjs/dist/cjs/index.js');
    // One of reflect-metadata's two files: the lite one, which inversify imports too.
    expect(cached.filter((file) => file.startsWith('node_modules/reflect-metadata/'))).toEqual([
      'node_modules/reflect-metadata/ReflectLite.js',
    ]);
    // The bundled zod validates like zod: durations parsed, English messages with their key path.
    expect(report.good).toEqual([2000, 2 * 1024 * 1024]);
    expect(report.bad).toEqual([
      expect.objectContaining({
        path: 'maxCollections',
        message: 'Invalid input: expected number, received string',
      }),
    ]);
  });

  it("of a service configured by a YAML file (express-app's default policy) loads no package index it avoids", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'memshed-start-up-'));
    try {
      // The same policy with a misspelt key added: the bundled yaml must still give its line.
      const policy = readFileSync(path.join(root, 'examples/express-app/.memshedrc.yaml'), 'utf8');
      const when = '    when: { level: medium }';
      const whenLine = policy.split('\n').findIndex((text) => text.startsWith(when));
      expect(whenLine).toBeGreaterThan(0);
      const lines = policy.split('\n');
      lines.splice(whenLine + 1, 0, '    cooldwn: 1s');
      writeFileSync(path.join(dir, 'bad.yaml'), lines.join('\n'));
      const report = runNode(`
        ${RECORD_RESOLVED}
        const { loadConfig, createMemshedFromConfig } = require('@memshed/config');
        const modules = ['source-v8', 'source-system', 'source-cgroup-v1', 'action-cache-purge', 'action-gc',
          'action-service-shutdown'].map((name) => require('@memshed/' + name).default);
        require('@memshed/http');
        (async () => {
          const loaded = await loadConfig({ config: '.memshedrc.yaml', cwd: 'examples/express-app', modules });
          const memshed = await createMemshedFromConfig({ loaded });
          const sources = memshed.sources.map((source) => source.id);
          const policies = memshed.config.policies.map((policy) => policy.name);
          const loadedBefore = Object.keys(require.cache);
          const bad = await loadConfig({ config: 'bad.yaml', cwd: ${JSON.stringify(dir)}, modules })
            .then(() => null, (error) => ({ message: error.message, position: error.issues[0].position }));
          // The RxJS subset is rxjs's own modules: an application's rxjs sees memshed's Observables.
          const { Observable } = require('rxjs');
          const same = memshed.level$ instanceof Observable;
          await memshed.stop();
          console.log(JSON.stringify({ resolved, loaded: loadedBefore, sources, policies, bad, same }));
        })().catch((error) => { console.error(error); process.exit(1); });
      `);
      expect(report.sources).toEqual(['v8', 'system', 'cgroup-v1']);
      expect(report.policies).toEqual(['trim-caches', 'drop-extras']);
      const fromPackages = (report.resolved as string[]).filter((file) =>
        /\/node_modules\/(inversify|@inversifyjs\/[^/]+|zod|yaml)\//.test(file),
      );
      expect(fromPackages).toEqual([]);
      const loaded = (report.loaded as string[]).map((file) => path.relative(root, file));
      expect(loaded).toEqual(expect.arrayContaining(BUNDLES));
      const rxjs = loaded.filter((file) => file.startsWith('node_modules/rxjs/'));
      expect(rxjs).not.toContain('node_modules/rxjs/dist/cjs/index.js');
      // The values in packages/core/src/rx.ts and what they import (59 with rxjs 7.8.2; the index: 223).
      expect(rxjs.length).toBeGreaterThan(20);
      expect(rxjs.length).toBeLessThan(80);
      expect(report.bad).toEqual({
        message: expect.stringMatching(/^bad\.yaml: policies\[0\]\.cooldwn: /),
        position: { line: expect.any(Number), column: 5 },
      });
      // The inserted line, 1-based: the one after `when:`.
      expect((report.bad as { position: { line: number } }).position.line).toBe(whenLine + 2);
      expect(report.same).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([['plugins'], ['doctor'], ['validate', 'examples/express-app/.memshedrc.yaml']])(
    'of the CLI (memshed %s) loads neither the rxjs index nor the yaml package, though the simulator is a built-in',
    (...argv: string[]) => {
      const report = runCli(argv);
      expect(report.code).toBe(0);
      const loaded = report.loaded;
      // It did load the built-in plugins, the simulator among them.
      if (argv[0] !== 'validate') {
        expect(loaded).toContain('packages/source-vmscan-sim/dist/index.js');
        expect(loaded).toContain(YAML_BUNDLE);
        expect(report.text).toContain('vmscan-sim');
      }
      expect(loaded).not.toContain('node_modules/rxjs/dist/cjs/index.js');
      expect(loaded.filter((file) => /^node_modules\/(yaml|rxjs\/dist\/cjs\/testing)\//.test(file))).toEqual(
        [],
      );
    },
  );

  it.each([['--version'], ['--help'], ['validate', '--help']])(
    'of the CLI (memshed %s) loads the command definitions only: no memshed package, no plugin, no RxJS',
    (...argv: string[]) => {
      const report = runCli(argv);
      expect(report.code).toBe(0);
      expect(report.text).toMatch(argv[0] === '--version' ? /^\d+\.\d+\.\d+/ : /Usage: memshed/);
      const loaded = report.loaded;
      const outside = loaded.filter(
        (file) => !file.startsWith('packages/cli/') && !file.startsWith('node_modules/commander/'),
      );
      expect(outside).toEqual([]);
      // The commands' implementations are required when they run.
      expect(loaded.filter((file) => file.startsWith('packages/cli/dist/commands/'))).toEqual([
        'packages/cli/dist/commands/definitions.js',
        'packages/cli/dist/commands/simulate-timeline.js',
      ]);
    },
  );

  it.each(BUNDLES)('%s is self-contained: it requires only node built-ins and reflect-metadata', (bundle) => {
    // reflect-metadata stays the application's (inversify imports reflect-metadata/lite).
    const text = readFileSync(path.join(root, bundle), 'utf8');
    const required = new Set([...text.matchAll(/\brequire\(["']([^"']+)["']\)/g)].map((match) => match[1]));
    const allowed = new Set([
      ...builtinModules,
      ...builtinModules.map((name) => `node:${name}`),
      'reflect-metadata',
      'reflect-metadata/lite',
    ]);
    expect([...required].filter((request) => !allowed.has(request))).toEqual([]);
    // And it is the bundle, not tsc's re-export of the package (which a bare `tsc -b` leaves).
    expect(text.length).toBeGreaterThan(100_000);
    expect(existsSync(path.join(root, bundle.replace(/\.js$/, '.LICENSE.txt')))).toBe(true);
  });
});

describe('a third-party plugin with its own inversify and zod', () => {
  // examples/custom-plugin imports 'inversify' and 'zod' themselves (the installed packages): its
  // decorators, ContainerModule and schemas must work with memshed's bundled copies.
  it('loads into the bundled container, validates its options, runs and stops', () => {
    // The application loads the full reflect-metadata polyfill first (as many do); memshed's lite one
    // shares its registry.
    const report = runNode(`
      require('reflect-metadata');
      const { createMemshed, SheddingActionFactory, PressureSourceFactory, validateOptions } = require('@memshed/core');
      const { configJsonSchema } = require('@memshed/config');
      const plugin = require('@memshed/example-custom-plugin');
      (async () => {
        const rejected = await createMemshed({
          modules: [plugin.default],
          sources: [{ use: 'event-loop-delay', with: { medium: 'soon' } }],
        }).then(() => null, (error) => error.message);
        const memshed = await createMemshed({
          modules: [plugin.default],
          sources: [{ use: 'event-loop-delay', with: { medium: '200ms', interval: '1s' } }],
        });
        const pools = memshed.container.get(plugin.BufferPools);
        const pool = new plugin.BufferPool(1024, 8);
        for (const buffer of [pool.acquire(), pool.acquire(), pool.acquire()]) pool.release(buffer);
        pools.register('scratch', pool);
        const factory = memshed.container.getAll(SheddingActionFactory).find((f) => f.id === 'buffer-pool');
        const options = validateOptions(factory.optionsSchema, { keep: 0 });
        const result = await memshed.runner.run(factory.create(options.value), { level: 'medium' });
        const schema = configJsonSchema({
          sources: memshed.container.getAll(PressureSourceFactory),
          actions: memshed.container.getAll(SheddingActionFactory),
        });
        const state = memshed.sources[0].state;
        await memshed.stop();
        console.log(JSON.stringify({
          rejected,
          state,
          sameFactory: factory instanceof plugin.BufferPoolActionFactory,
          freed: result.freedBytes,
          free: pool.freeCount,
          schema: JSON.stringify(schema),
        }));
      })().catch((error) => { console.error(error); process.exit(1); });
    `);
    expect(report.rejected).toMatch(/medium/);
    expect(report.state).toBe('running');
    expect(report.sameFactory).toBe(true);
    expect(report.freed).toBe(3 * 1024);
    expect(report.free).toBe(0);
    // The bundled zod's JSON Schema describes the plugin's own zod schema.
    const schema = report.schema as string;
    expect(schema).toContain('"buffer-pool"');
    expect(schema).toContain('"percentile"');
  });
});
