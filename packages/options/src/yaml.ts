/**
 * The YAML parser memshed reads config and scenario files with (yaml 2, with node ranges for
 * line numbers in errors): `import { parseDocument } from '@memshed/options/yaml'`.
 *
 * Why not `'yaml'` directly: its CommonJS build is dozens of module files, and each module file
 * costs start-up time and memory (docs/benchmarks.md, footprint). The build
 * (`scripts/bundle-vendored.mjs`, run by `npm run build`) replaces this module's compiled output
 * with one CommonJS file holding the same pinned yaml, unchanged. One module for @memshed/config
 * and the simulator (both depend on this package), so a process that loads both, such as the CLI,
 * holds one copy. Only what they use is exported; `@memshed/options` itself does not load it.
 */
export { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument } from 'yaml';
export type { Document, Node } from 'yaml';
