#!/usr/bin/env node
// Replaces the compiled output of memshed's "vendoring" modules with one CommonJS file each:
//   packages/core/src/inversify.ts -> packages/core/dist/inversify.js (inversify and its
//     @inversifyjs packages, 245 ES module files as installed)
//   packages/options/src/zod.ts -> packages/options/dist/zod.js (the zod builders memshed uses,
//     tree-shaken; zod's index is 95 files and builds every locale at import)
//   packages/options/src/yaml.ts -> packages/options/dist/yaml.js (yaml's CommonJS build, 72
//     files; config and the simulator read YAML through it)
// Why: on Node 20 each module file costs ~0.5-0.9 ms and ~45 KB of RSS at start-up, and these
// dependencies were most of memshed's start-up cost (docs/benchmarks.md, footprint). The code is
// the pinned, installed version, unchanged; only the file layout differs.
//
// Run after `tsc -b` (npm run build does both). The entry is the TypeScript source, not tsc's
// output, so running it again gives the same file. Each bundle gets a `.LICENSE.txt` beside it with
// the licenses of the packages inside it. Usage: node scripts/bundle-vendored.mjs [--clean] [core|options]
import { build } from 'esbuild';
import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What is bundled, per package; `packages` names what the bundle may contain (checked). */
const BUNDLES = [
  {
    pkg: 'core',
    entry: 'src/inversify.ts',
    out: 'dist/inversify.js',
    packages: /^(inversify|@inversifyjs\/.+)$/,
  },
  { pkg: 'options', entry: 'src/zod.ts', out: 'dist/zod.js', packages: /^zod$/ },
  { pkg: 'options', entry: 'src/yaml.ts', out: 'dist/yaml.js', packages: /^yaml$/ },
];

/** The package (name, dir) a bundled input file belongs to: the innermost node_modules entry. */
function packageOf(input) {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return undefined;
  const scoped = parts[at + 1].startsWith('@');
  const name = scoped ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1];
  return { name, dir: join(ROOT, ...parts.slice(0, at + (scoped ? 3 : 2))) };
}

function licenseText(dir) {
  const file = readdirSync(dir).find((name) => /^(licen[cs]e|copying)(\.(md|txt))?$/i.test(name));
  return file ? readFileSync(join(dir, file), 'utf8').trim() : undefined;
}

async function bundle({ pkg, entry, out, packages }) {
  const packageDir = join(ROOT, 'packages', pkg);
  const outfile = join(packageDir, out);
  if (!existsSync(dirname(outfile))) {
    throw new Error(
      `${relative(ROOT, dirname(outfile))} does not exist: run tsc -b first (npm run build runs both)`,
    );
  }
  const result = await build({
    entryPoints: [join(packageDir, entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Left to the installed package, shared with the application (inversify imports
    // reflect-metadata/lite: the metadata API without the global polyfill).
    external: ['reflect-metadata'],
    sourcemap: true,
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    absWorkingDir: ROOT,
  });
  const inside = new Map();
  for (const input of Object.keys(result.metafile.inputs)) {
    const owner = packageOf(input);
    if (!owner) continue;
    if (!packages.test(owner.name)) {
      throw new Error(
        `${relative(ROOT, outfile)} would contain ${owner.name} (${input}): only ${packages} may be bundled`,
      );
    }
    if (!inside.has(owner.name)) {
      const { version } = JSON.parse(readFileSync(join(owner.dir, 'package.json'), 'utf8'));
      inside.set(owner.name, { version, license: licenseText(owner.dir) });
    }
  }
  if (inside.size === 0) throw new Error(`${relative(ROOT, outfile)}: nothing was bundled from ${entry}`);
  const names = [...inside.keys()].sort();
  writeFileSync(
    `${outfile.replace(/\.js$/, '')}.LICENSE.txt`,
    `${relative(packageDir, outfile)} bundles these packages, unchanged (scripts/bundle-vendored.mjs):\n\n${names
      .map(
        (name) =>
          `${name}@${inside.get(name).version}\n\n${inside.get(name).license ?? '(no license file in the package)'}`,
      )
      .join('\n\n---\n\n')}\n`,
  );
  const modules = Object.keys(result.metafile.inputs).length;
  const kb = Math.round(statSync(outfile).size / 1024);
  const main = names.find((name) => !name.startsWith('@')) ?? names[0];
  process.stdout.write(
    `bundled ${main}@${inside.get(main).version} (${names.length} package${names.length === 1 ? '' : 's'}, ${modules} modules) -> ${relative(ROOT, outfile)} (${kb} KB)\n`,
  );
}

/** `--clean`: removes the license files the bundles leave beside them (`tsc -b --clean` removes the rest). */
function clean(entries) {
  for (const { pkg, out } of entries) {
    rmSync(join(ROOT, 'packages', pkg, `${out.replace(/\.js$/, '')}.LICENSE.txt`), { force: true });
  }
}

const cleaning = process.argv.includes('--clean');
const wanted = process.argv.slice(2).filter((arg) => arg !== '--clean');
const unknown = wanted.filter((name) => !BUNDLES.some((entry) => entry.pkg === name));
if (unknown.length > 0) {
  process.stderr.write(
    `bundle-vendored: no bundle for ${unknown.join(', ')}; known: ${BUNDLES.map((b) => b.pkg).join(', ')}\n`,
  );
  process.exit(2);
}
try {
  const entries = BUNDLES.filter((candidate) => wanted.length === 0 || wanted.includes(candidate.pkg));
  if (cleaning) clean(entries);
  else for (const entry of entries) await bundle(entry);
} catch (error) {
  process.stderr.write(`bundle-vendored: ${error.message}\n`);
  process.exit(1);
}
