import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT as root } from './support/run-built-node';
import { BUILD_TOOLS, bareBinDirectory, onPath, progress, runCommand } from './support/run-command';

// memshed as its users get it: every package packed with `npm pack` (npm test builds first),
// installed from the tarballs into fresh projects outside the workspace, and used the ways apps
// use it: CommonJS, ES modules (the README's Quick start verbatim), TypeScript strict without
// skipLibCheck, the `memshed` command. Slow (two `npm install`s): the kernel project runs it.

/** What `npm pack --json` says of one package. */
interface Packed {
  readonly name: string;
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

interface Manifest {
  readonly name: string;
  readonly version: string;
  readonly exports: Record<string, string | { import: { types: string; default: string } }>;
  readonly [key: string]: unknown;
}

const PACKAGE_DIRS = readdirSync(path.join(root, 'packages')).sort();
const manifestOf = (dir: string): Manifest =>
  JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8')) as Manifest;
const ROOT_MANIFEST = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  devDependencies: Record<string, string>;
};
const TSC = path.join(root, 'node_modules/typescript/bin/tsc');
/** `names` and every memshed package they depend on, transitively: what npm must find as tarballs. */
function withMemshedDependencies(names: readonly string[]): string[] {
  const byName = new Map(PACKAGE_DIRS.map(manifestOf).map((manifest) => [manifest.name, manifest]));
  const all = new Set<string>();
  const visit = (name: string) => {
    if (all.has(name)) return;
    all.add(name);
    const dependencies = (byName.get(name)?.dependencies as Record<string, string> | undefined) ?? {};
    for (const dependency of Object.keys(dependencies)) if (byName.has(dependency)) visit(dependency);
  };
  names.forEach(visit);
  return [...all];
}

/** Plugin packages with a default-exported ContainerModule, as in `createMemshed({ modules })`. */
const PLUGINS = PACKAGE_DIRS.filter((dir) => /^(source|action)-/.test(dir));

/** The README's Quick start: the first TypeScript block under "## Quick start", as it is. */
function quickStart(): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```ts\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README.md has no ```ts block under "## Quick start"');
  return block[1];
}

/** The Quick start as a CommonJS module: no top-level await, so the body runs in a function. */
function quickStartInFunction(prelude: string): string {
  const lines = quickStart().split('\n');
  const imports = lines.filter((line) => line.startsWith('import '));
  const body = lines.filter((line) => !line.startsWith('import '));
  return [...imports, prelude, 'async function main() {', ...body, '}', 'void main();', ''].join('\n');
}

function writeProject(dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A strict tsconfig without skipLibCheck: every declaration file memshed ships is checked. */
function tsconfig(module: string, moduleResolution: string, files: string[]): string {
  return JSON.stringify({
    compilerOptions: {
      strict: true,
      module,
      moduleResolution,
      target: 'es2022',
      // A Node app's libraries: no DOM.
      lib: ['es2022'],
      noEmit: true,
      types: ['node'],
    },
    files,
  });
}

describe('memshed installed from its packed tarballs into projects outside the workspace (consumer)', () => {
  let work: string;
  let app: string;
  const packed = new Map<string, Packed>();

  beforeAll(() => {
    work = mkdtempSync(path.join(tmpdir(), 'memshed-consumer-'));
    const tarballs = path.join(work, 'tarballs');
    mkdirSync(tarballs);
    progress(`packing ${PACKAGE_DIRS.length} packages into ${tarballs}`);
    const workspaces = PACKAGE_DIRS.flatMap((dir) => ['-w', `packages/${dir}`]);
    // @memshed/native's prepack builds its prebuilt addons: this machine's architecture is enough
    // here (test/e2e/native-package.test.ts covers the others).
    const json = runCommand(
      'npm',
      ['pack', ...workspaces, '--pack-destination', tarballs, '--json'],
      root,
      240_000,
      {
        MEMSHED_PREBUILD_ARCHS: process.arch,
      },
    );
    for (const entry of JSON.parse(json.slice(json.indexOf('['))) as Packed[]) packed.set(entry.name, entry);

    app = writeProject(path.join(work, 'app'), {
      'package.json': JSON.stringify({ name: 'memshed-consumer', version: '1.0.0', private: true }),
    });
    // As in a slim container image: no compiler, make or python on PATH (the native addon's
    // prebuilt copy must do).
    const bin = bareBinDirectory(path.join(work, 'bin'));
    progress('npm install of every tarball in a fresh project, no compiler or python on PATH');
    runCommand(
      path.join(bin, 'npm'),
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        ...[...packed.values()].map((entry) => path.join(tarballs, entry.filename)),
        `@types/node@${ROOT_MANIFEST.devDependencies['@types/node']}`,
      ],
      app,
      240_000,
      { PATH: bin },
    );
    for (const tool of BUILD_TOOLS) expect(onPath(tool, bin)).toBeUndefined();
    // Nothing was compiled: the addon is the prebuilt one.
    expect(existsSync(path.join(app, 'node_modules/@memshed/native/build'))).toBe(false);
  }, 300_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs every package with its README, the LICENSE and its metadata, and no tests or fixtures', () => {
    const license = readFileSync(path.join(root, 'LICENSE'), 'utf8');
    for (const dir of PACKAGE_DIRS) {
      const manifest = manifestOf(dir);
      const files = packed.get(manifest.name)!.files.map((file) => file.path);
      expect({ dir, readme: files.includes('README.md'), license: files.includes('LICENSE') }).toEqual({
        dir,
        readme: true,
        license: true,
      });
      expect(readFileSync(path.join(app, 'node_modules', manifest.name, 'LICENSE'), 'utf8')).toBe(license);
      expect(
        files.filter((file) =>
          /\.test\.|__fixtures__|^fixtures\/|test-support|testing-io|tsbuildinfo/.test(file),
        ),
      ).toEqual([]);
      // Every file the exports map names is in the tarball, the ES module entries included.
      const targets = Object.values(manifest.exports).flatMap((target) =>
        typeof target === 'string'
          ? [target]
          : Object.values(target).flatMap((condition) => Object.values(condition)),
      );
      expect(
        targets.map((target) => target.replace(/^\.\//, '')).filter((target) => !files.includes(target)),
      ).toEqual([]);
      expect(manifest).toMatchObject({
        repository: { type: 'git', directory: `packages/${dir}` },
        homepage: expect.stringContaining(`packages/${dir}`),
        bugs: { url: expect.any(String) },
        keywords: expect.arrayContaining(['memshed']),
        engines: { node: expect.any(String) },
        sideEffects: expect.anything(),
      });
      // One RxJS per app: memshed's Observables are the app's (instanceof, operators).
      expect(Object.keys((manifest.dependencies as Record<string, string> | undefined) ?? {})).not.toContain(
        'rxjs',
      );
    }
    // The ./testing subpaths that are public API ship; repository-only test helpers do not.
    expect(packed.get('@memshed/core')!.files.map((file) => file.path)).toContain('dist/testing/index.js');
    for (const name of ['@memshed/config', '@memshed/source-vmscan-sim']) {
      expect(packed.get(name)!.files.filter((file) => file.path.includes('testing/'))).toEqual([]);
    }
  });

  it('runs under CommonJS: require() and createMemshed with a plugin module', () => {
    writeFileSync(
      path.join(app, 'commonjs.cjs'),
      `
      const { createMemshed } = require('@memshed/core');
      const cgroupV1 = require('@memshed/source-cgroup-v1');
      (async () => {
        const memshed = await createMemshed({ modules: [cgroupV1.default], sources: [{ use: 'cgroup-v1' }] });
        const sources = memshed.sources.map((source) => source.id);
        await memshed.stop();
        console.log(JSON.stringify({ module: cgroupV1.default.constructor.name, sources }));
      })();
      `,
    );
    expect(JSON.parse(runCommand(process.execPath, ['commonjs.cjs'], app))).toEqual({
      module: 'ContainerModule',
      sources: ['cgroup-v1'],
    });
  });

  it("runs the README's Quick start verbatim as an ES module", () => {
    // Adapted only to run and exit: the app's `cache`, and a stop once started.
    writeFileSync(
      path.join(app, 'quick-start.mjs'),
      `const cache = new Map();\n${quickStart()}\nawait memshed.stop();\nconsole.log('quick start: stopped');\n`,
    );
    const output = runCommand(process.execPath, ['quick-start.mjs'], app);
    expect(output).toContain('memory state: normal');
    expect(output).toContain('quick start: stopped');
  });

  it("gives ES modules the CommonJS build's own exports for every entry: each name, the default, one instance", () => {
    const specifiers = PACKAGE_DIRS.flatMap((dir) => {
      const manifest = manifestOf(dir);
      return Object.entries(manifest.exports)
        .filter(([, target]) => typeof target !== 'string')
        .map(([subpath]) => (subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`));
    });
    writeFileSync(
      path.join(app, 'entries.mjs'),
      `
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const problems = [];
      for (const specifier of ${JSON.stringify(specifiers)}) {
        const esm = await import(specifier);
        const cjs = require(specifier);
        for (const name of Object.keys(cjs)) {
          if (name === '__esModule') continue;
          if (!(name in esm)) problems.push(specifier + ': ' + name + ' is missing');
          else if (esm[name] !== cjs[name]) problems.push(specifier + ': ' + name + ' is another instance');
        }
        if (esm.default !== cjs.default) problems.push(specifier + ': default is not the CommonJS default export');
      }
      console.log(JSON.stringify({ checked: ${specifiers.length}, problems }));
      `,
    );
    expect(JSON.parse(runCommand(process.execPath, ['entries.mjs'], app))).toEqual({
      checked: specifiers.length,
      problems: [],
    });
    expect(specifiers).toEqual(
      expect.arrayContaining(['@memshed/source-cgroup-v1', '@memshed/http/fastify']),
    );
  });

  describe('type-checks strictly, without skipLibCheck', () => {
    // Every plugin's default export where `modules` wants a ContainerModule, the Quick start's
    // use. (@memshed/electron is left out here: its types are Electron's, for Electron apps.)
    const plugins = PLUGINS.map(
      (dir, index) =>
        `import plugin${index} from '@memshed/${dir}';\nvoid createMemshed({ modules: [plugin${index}] });`,
    ).join('\n');
    const pluginsFile = `import { createMemshed } from '@memshed/core';\n${plugins}\n`;
    const prelude = 'const cache = new Map<string, unknown>();';

    it.each([
      ['module nodenext, an ES module project', 'esm', 'module', 'nodenext', 'nodenext'],
      ['module nodenext, a CommonJS project', 'cjs', 'commonjs', 'nodenext', 'nodenext'],
      ['moduleResolution bundler', 'bundler', 'module', 'esnext', 'bundler'],
    ])('the Quick start and every plugin module under %s', (_about, name, type, module, resolution) => {
      progress(`tsc --noEmit: ${_about}`);
      const project = writeProject(path.join(app, `ts-${name}`), {
        'package.json': JSON.stringify({ type }),
        'tsconfig.json': tsconfig(module, resolution, ['quick-start.ts', 'plugins.ts']),
        'quick-start.ts': type === 'module' ? `${prelude}\n${quickStart()}` : quickStartInFunction(prelude),
        'plugins.ts': pluginsFile,
      });
      runCommand(process.execPath, [TSC, '-p', project], project);
    });

    it('an app with only @memshed/http and @memshed/core installed (no fastify, express or koa)', () => {
      const http = writeProject(path.join(work, 'http-only'), {
        'package.json': JSON.stringify({
          name: 'memshed-http-consumer',
          version: '1.0.0',
          private: true,
          type: 'module',
        }),
      });
      progress('npm install of @memshed/core and @memshed/http in a fresh project');
      runCommand(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          ...withMemshedDependencies(['@memshed/core', '@memshed/http']).map((name) =>
            path.join(work, 'tarballs', packed.get(name)!.filename),
          ),
          `@types/node@${ROOT_MANIFEST.devDependencies['@types/node']}`,
        ],
        http,
        120_000,
      );
      expect(readdirSync(path.join(http, 'node_modules'))).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(fastify|express|koa)$/)]),
      );
      writeProject(http, {
        'tsconfig.json': tsconfig('nodenext', 'nodenext', ['server.ts']),
        'server.ts': `
          import { createServer } from 'node:http';
          import { createMemshed } from '@memshed/core';
          import { LoadShedder, loadShedding, withLoadShedding } from '@memshed/http';

          const memshed = await createMemshed({});
          const handler = withLoadShedding(memshed, (_request, response) => response.end('ok'));
          const shedder: LoadShedder = handler.shedder;
          const middleware = loadShedding(shedder);
          createServer(handler).close();
          void middleware;
          await memshed.stop();
        `,
      });
      runCommand(process.execPath, [TSC, '-p', http], http);
    });
  });

  it('runs `npx memshed --version` from the installed @memshed/cli, not the registry', () => {
    // --no: npx must find the installed bin; it may not fetch anything.
    expect(runCommand('npx', ['--no', '--', 'memshed', '--version'], app).trim()).toBe(
      manifestOf('cli').version,
    );
  });
});
