#!/usr/bin/env node
// @memshed/native's install step. In order:
// 1. an addon that loads here already: a local build (build/Release) or a prebuilt one shipped in
//    prebuilds/<platform>-<arch>/ (linux-x64 and linux-arm64, glibc): nothing to do, no compiler;
// 2. else compile it with node-gyp (needs python3, make and a C++17 compiler);
// 3. else say so and succeed anyway: memshed runs without the addon, and every source or action
//    that needs it explains why at run time (`memshed doctor`). Failing here would make npm roll
//    back the whole installation of the application.
// Set MEMSHED_NATIVE_BUILD=always to compile even when a prebuilt addon loads (development).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');

function loads() {
  try {
    const addon = require('node-gyp-build')(root);
    if (addon && addon.platformSupported === true) return { ok: true };
    return { ok: false, detail: 'the addon was built without Linux support' };
  } catch (error) {
    return { ok: false, detail: String(error && error.message).split('\n')[0] };
  }
}

/**
 * The headers of the node that runs this script, when it ships them (official builds and Debian's
 * nodejs do, at <prefix>/include/node): node-gyp then compiles offline instead of downloading them.
 */
function localNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function compile() {
  // The package's pinned node-gyp first: node-gyp's newest major does not run on every supported
  // Node line. npm's own (on PATH in lifecycle scripts) otherwise.
  let nodeGyp;
  try {
    nodeGyp = require.resolve('node-gyp/bin/node-gyp.js', { paths: [root] });
  } catch {
    nodeGyp = undefined;
  }
  const nodedir = process.env.npm_config_nodedir || localNodeDir();
  const args = ['rebuild', ...(nodedir ? [`--nodedir=${nodedir}`] : [])];
  const result = nodeGyp
    ? spawnSync(process.execPath, [nodeGyp, ...args], { cwd: root, stdio: 'inherit' })
    : spawnSync('node-gyp', args, { cwd: root, stdio: 'inherit' });
  return result.status === 0;
}

function main() {
  if (process.env.MEMSHED_NATIVE_BUILD !== 'always') {
    if (loads().ok) return;
    // The addon only does anything on Linux; elsewhere memshed's portable sources are used.
    if (process.platform !== 'linux') return;
  }
  if (compile() && loads().ok) return;
  const found = loads();
  if (found.ok) {
    console.warn('@memshed/native: compiling the addon failed (output above); the prebuilt one is used.');
    return;
  }
  console.warn(
    [
      '',
      `@memshed/native: no prebuilt addon for ${process.platform}-${process.arch} loads here, and compiling one failed (${found.detail}).`,
      '  memshed works without it; the sources that need it (cgroup-v1, PSI triggers, eventfd thresholds) say why at run time:',
      '  run `npx memshed doctor`. To get them: install python3, make and g++, then `npm rebuild @memshed/native`.',
      '',
    ].join('\n'),
  );
}

main();
