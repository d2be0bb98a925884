/**
 * The YAML parser as @memshed/config uses it (yaml 2, with node ranges for line numbers in
 * errors).
 *
 * Why not `'yaml'` directly: its CommonJS build is 72 module files, and on Node 20 each file
 * costs ~0.5-0.9 ms and ~45 KB of RSS at start-up (docs/benchmarks.md, footprint): ~45 ms before
 * a YAML config is read. The build (`scripts/bundle-vendored.mjs`, run by `npm run build`)
 * replaces this module's compiled output with one CommonJS file holding the same pinned yaml,
 * unchanged. Only what config's loaders use is exported.
 */
export { LineCounter, isMap, isPair, isScalar, parseDocument } from 'yaml';
export type { Document, Node } from 'yaml';
