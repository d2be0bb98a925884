/**
 * inversify, as memshed and its plugins use it: `import { injectable, ContainerModule } from
 * '@memshed/core/inversify'`.
 *
 * Why not `'inversify'` directly: inversify 8 ships as ~245 ES module files, and on Node 20 each
 * module file costs ~0.5-0.9 ms and ~45 KB of RSS at start-up (docs/benchmarks.md, footprint):
 * ~190 ms and 15 MB before memshed did anything. The build (`scripts/bundle-vendored.mjs`, run by
 * `npm run build`) replaces this module's compiled output with one CommonJS file holding the same
 * pinned inversify (15-20 ms, ~1.7 MB), so the start-up path loads one file instead of 245.
 *
 * Every memshed package imports inversify from here, so one process holds one copy. A plugin that
 * imports `'inversify'` itself still works with memshed's container (decorator metadata lives in
 * reflect-metadata under keys both copies share; test/e2e/start-up-path.test.ts checks it), but
 * loads the second, slow copy.
 */
export * from 'inversify';
