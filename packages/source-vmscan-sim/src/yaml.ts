/**
 * The YAML parser as the simulator's scenario loader uses it (yaml 2, with node ranges for line
 * numbers in errors).
 *
 * Why not `'yaml'` directly: its CommonJS build is 72 module files, and the simulator is a
 * built-in plugin, so every CLI command that loads the built-ins (doctor, watch, run, plugins)
 * loaded them (docs/benchmarks.md, footprint). The build (`scripts/bundle-vendored.mjs`, run by
 * `npm run build`) replaces this module's compiled output with one CommonJS file holding the same
 * pinned yaml, unchanged. @memshed/config has its own (the simulator does not depend on config).
 */
export { LineCounter, isMap, isScalar, parseDocument } from 'yaml';
export type { Document } from 'yaml';
