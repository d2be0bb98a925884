/**
 * `node -r ./system-ts-register.js child.ts`: lets a child process run the monorepo's TypeScript
 * sources directly, the way jest does (same swc options, `@memshed/x` mapped to packages/x/src),
 * so that real-process tests exercise the current sources without a build and never a stale dist.
 * Used by the system and v8 kernel tests.
 */
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');
const { transformSync } = require('@swc/core');

const ROOT = path.resolve(__dirname, '../../..');
const PACKAGE = /^@memshed\/([a-z0-9-]+)(\/testing)?$/;

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  const match = PACKAGE.exec(request);
  if (match) {
    return path.join(ROOT, 'packages', match[1], 'src', match[2] ? 'testing/index.ts' : 'index.ts');
  }
  return resolveFilename.call(this, request, parent, ...rest);
};

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  });
  module._compile(code, filename);
};
