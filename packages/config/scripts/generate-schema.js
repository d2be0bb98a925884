#!/usr/bin/env node
// Writes memshed.schema.json, the JSON Schema of memshed config files with the options of every
// installed built-in plugin. Run after `npx tsc -b` (it reads dist/), whenever a plugin's options
// change: `npm run schema -w @memshed/config`. A test fails while the file is out of date.
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { configJsonSchema, loadBuiltinPlugins } = require('../dist/index.js');

async function main() {
  const target = join(__dirname, '..', 'memshed.schema.json');
  let text = `${JSON.stringify(configJsonSchema(loadBuiltinPlugins(__dirname)), null, 2)}\n`;
  try {
    // Format as the repository does, when prettier is there (it is a dev tool, not a dependency).
    const prettier = require('prettier');
    const options = (await prettier.resolveConfig(target)) ?? {};
    text = await prettier.format(text, { ...options, filepath: target });
  } catch (error) {
    if (error.code !== 'MODULE_NOT_FOUND') throw error;
  }
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
