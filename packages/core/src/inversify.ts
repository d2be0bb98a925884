/**
 * inversify, as memshed and its plugins use it: `import { injectable, ContainerModule } from
 * '@memshed/core/inversify'`.
 *
 * Why not `'inversify'` directly: inversify 8 ships as a few hundred ES module files, and on Node
 * 20 start-up costs time and memory per module file loaded, not per feature used (the figures are
 * in docs/benchmarks.md, "Footprint"). The build (`scripts/bundle-vendored.mjs`, run by `npm run
 * build`) replaces this module's compiled output with one CommonJS file holding the same pinned
 * inversify, so the start-up path loads one file instead of hundreds.
 *
 * Every memshed package imports inversify from here, so one process holds one copy. A plugin that
 * imports `'inversify'` itself still works with memshed's container (decorator metadata lives in
 * reflect-metadata under keys both copies share; test/e2e/start-up-path.test.ts checks it), but
 * loads the second, slow copy.
 */
export * from 'inversify';
