import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError } from './config-error';
import { discoverConfig, projectRoot, searchPlaces } from './discover-config';

let root: string;

function write(path: string, content: string): string {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  return file;
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'memshed-discover-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe(discoverConfig, () => {
  it('finds the nearest config in a monorepo: the package its own, others the root one', async () => {
    write('package.json', JSON.stringify({ name: 'mono', workspaces: ['packages/*'] }));
    const rootConfig = write('.memshedrc.yaml', 'dryRun: true\n');
    write('packages/a/package.json', JSON.stringify({ name: 'a' }));
    write('packages/a/src/.keep', '');
    write('packages/b/package.json', JSON.stringify({ name: 'b' }));
    const own = write('packages/b/.memshedrc.json', '{ "dryRun": false }');

    expect((await discoverConfig({ cwd: join(root, 'packages/a/src') }))?.filepath).toBe(rootConfig);
    expect((await discoverConfig({ cwd: join(root, 'packages/a') }))?.filepath).toBe(rootConfig);
    expect((await discoverConfig({ cwd: join(root, 'packages/b') }))?.filepath).toBe(own);
    expect(projectRoot(join(root, 'packages/a/src'))).toBe(root);
  });

  it('stops at the project root: a config above it is not found', async () => {
    write('.memshedrc.yaml', 'dryRun: true\n');
    mkdirSync(join(root, 'repo/.git'), { recursive: true });
    write('repo/app/package.json', '{}');
    expect(await discoverConfig({ cwd: join(root, 'repo/app') })).toBeUndefined();
  });

  it('reads the "memshed" key of package.json, and passes over a package.json without one', async () => {
    write('package.json', JSON.stringify({ name: 'top', memshed: { dryRun: true } }));
    write('pkg/package.json', JSON.stringify({ name: 'inner' }));
    const found = await discoverConfig({ cwd: join(root, 'pkg'), stopDir: root });
    expect(found?.filepath).toBe(join(root, 'package.json'));
    expect(found?.value).toEqual({ dryRun: true });
    expect(found?.prefix).toEqual(['memshed']);
  });

  it('takes the first of the search places in a directory', async () => {
    write('memshed.config.cjs', 'module.exports = { dryRun: false };');
    const yaml = write('.memshedrc.yaml', 'dryRun: true\n');
    expect((await discoverConfig({ cwd: root, stopDir: root }))?.filepath).toBe(yaml);
    expect(searchPlaces().indexOf('.memshedrc.yaml')).toBeLessThan(
      searchPlaces().indexOf('memshed.config.cjs'),
    );
  });

  it('in safe mode, passes over configs that run code', async () => {
    write('.memshedrc.js', 'module.exports = { dryRun: false };');
    const yaml = write('.config/memshedrc.yaml', 'dryRun: true\n');
    expect((await discoverConfig({ cwd: root, stopDir: root }))?.filepath).toBe(join(root, '.memshedrc.js'));
    expect((await discoverConfig({ cwd: root, stopDir: root, safe: true }))?.filepath).toBe(yaml);
    expect(searchPlaces(true).some((place) => /\.(c|m)?(j|t)s$/.test(place))).toBe(false);
  });

  it("ends at the user's config directory ($XDG_CONFIG_HOME/memshed)", async () => {
    const saved = process.env.XDG_CONFIG_HOME;
    process.env.XDG_CONFIG_HOME = join(root, 'xdg');
    try {
      const global = write('xdg/memshed/config.yaml', 'dryRun: true\n');
      write('work/.keep', '');
      expect((await discoverConfig({ cwd: join(root, 'work'), stopDir: join(root, 'work') }))?.filepath).toBe(
        global,
      );
      expect(await discoverConfig({ cwd: join(root, 'work'), searchStrategy: 'none' })).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
      else process.env.XDG_CONFIG_HOME = saved;
    }
  });

  it('reports a syntax error in the config it finds, with the line', async () => {
    write('.memshedrc.json', '{\n  "dryRun": true,\n}\n');
    const error = await discoverConfig({ cwd: root, stopDir: root }).catch((e: unknown) => e);
    expect(ConfigError.isConfigError(error)).toBe(true);
    expect((error as ConfigError).issues[0].position).toEqual({ line: 3, column: 1 });
  });

  it('passes over an empty file', async () => {
    write('.memshedrc.json', '   \n');
    const yaml = write('.memshedrc.yaml', 'dryRun: true\n');
    expect((await discoverConfig({ cwd: root, stopDir: root }))?.filepath).toBe(yaml);
  });
});
