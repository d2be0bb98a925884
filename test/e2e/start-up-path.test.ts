import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

// memshed's start-up path loads inversify and zod as one file each (scripts/bundle-vendored.mjs),
// not as the 245 and 95 module files of the packages (docs/benchmarks.md, footprint). These run the
// built packages (npm test builds first) in a fresh node, the way an application loads them: jest's
// module registry would hide which files node loads, and unit tests run the sources, where
// `@memshed/core/inversify` is the inversify package itself.
const root = path.resolve(__dirname, '../..');
const BUNDLES = ['packages/core/dist/inversify.js', 'packages/options/dist/zod.js'];

function runNode(script: string) {
  const result = spawnSync(process.execPath, ['-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`node exited ${result.status}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

beforeAll(() => {
  for (const bundle of BUNDLES) {
    if (!existsSync(path.join(root, bundle)))
      throw new Error(`${bundle} is missing: run npm run build first`);
  }
});

describe('the start-up path', () => {
  it('loads inversify and zod only as the bundled files, never from the packages', () => {
    const report = runNode(`
      const Module = require('node:module');
      const resolved = [];
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (...args) {
        const file = resolve.apply(this, args);
        resolved.push(file);
        return file;
      };
      require('reflect-metadata');
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
    expect(cached).toEqual(expect.arrayContaining(BUNDLES));
    // The bundled zod validates like zod: durations parsed, English messages with their key path.
    expect(report.good).toEqual([2000, 2 * 1024 * 1024]);
    expect(report.bad).toEqual([
      expect.objectContaining({
        path: 'maxCollections',
        message: 'Invalid input: expected number, received string',
      }),
    ]);
  });

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
