#!/usr/bin/env node
// The `memshed` command. A committed file rather than dist/bin.js itself: npm links a
// workspace's bin only if its target exists at `npm ci` time, before anything is built, and
// `npx memshed` without the link would fetch the registry's unrelated `memshed` package.
'use strict';
const path = require('node:path');

const bin = path.join(__dirname, '..', 'dist', 'bin.js');
try {
  require.resolve(bin);
} catch {
  process.stderr.write(
    `memshed: ${bin} does not exist: @memshed/cli is not built. ` +
      'In a clone of the memshed repository, run `npm run build` first.\n',
  );
  process.exit(1);
}
require(bin);
