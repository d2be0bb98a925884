// @ts-check
/**
 * One jest run for the whole monorepo, split in projects so that slow suites can run
 * separately: `unit` (pure, virtual time, fixtures) and `kernel` (real cgroups, real
 * processes; test/kernel and test/e2e). Tests import packages by name; the mapper points
 * them at each package's src so that no build is needed to test.
 */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

const swcJs = {
  jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
  module: { type: 'commonjs' },
};

/** @type {import('jest').Config} */
const common = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.(t|mt|ct)s$': ['@swc/jest', swc],
    // inversify 8 is ESM-only: jest on Node 20 must transform it to CommonJS.
    '^.+\\.(m|c)?js$': ['@swc/jest', swcJs],
  },
  transformIgnorePatterns: ['/node_modules/(?!(inversify|@inversifyjs)/)'],
  moduleNameMapper: {
    '^@memshed/example-([a-z0-9-]+)$': '<rootDir>/examples/$1/src/index.ts',
    '^@memshed/([a-z0-9-]+)$': '<rootDir>/packages/$1/src/index.ts',
    // One-module subpaths: the build's one-file inversify and yaml (scripts/bundle-vendored.mjs),
    // and the RxJS values memshed uses.
    '^@memshed/(core|options)/(inversify|rx|yaml)$': '<rootDir>/packages/$1/src/$2.ts',
    '^@memshed/([a-z0-9-]+)/testing$': '<rootDir>/packages/$1/src/testing/index.ts',
    '^@memshed/http/fastify$': '<rootDir>/packages/http/src/fastify-plugin.ts',
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json', 'node'],
  modulePathIgnorePatterns: ['<rootDir>/packages/[^/]+/dist/', '<rootDir>/examples/[^/]+/dist/'],
};

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/packages/*/src/**/*.test.ts', '<rootDir>/examples/*/src/**/*.test.ts'],
    },
    {
      ...common,
      // Real cgroups and real processes: run with --runInBand (npm run test:kernel), one file at a time.
      displayName: 'kernel',
      testMatch: ['<rootDir>/test/kernel/**/*.test.ts', '<rootDir>/test/e2e/**/*.test.ts'],
    },
  ],
};
