// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Packages memshed's own code imports through a lighter module of its own (issue 10, footprint). */
const VENDORED = {
  inversify: {
    name: 'inversify',
    message: "Import from '@memshed/core/inversify' (one bundled copy; see packages/core/src/inversify.ts).",
    allowTypeImports: true,
  },
  zod: {
    name: 'zod',
    message: "Import { z } from '@memshed/options' (the bundled subset; see packages/options/src/zod.ts).",
    allowTypeImports: true,
  },
  yaml: {
    name: 'yaml',
    message: "Import from '@memshed/options/yaml' (one bundled file; see packages/options/src/yaml.ts).",
    allowTypeImports: true,
  },
  rxjs: {
    name: 'rxjs',
    message:
      "Import RxJS values from '@memshed/core/rx' ('./rx' in core; see packages/core/src/rx.ts): the 'rxjs' index loads all 223 of its files.",
    allowTypeImports: true,
  },
};

/** The modules that do the vendoring: the only ones that may import those packages themselves. */
const VENDORING_MODULES = [
  'packages/core/src/inversify.ts',
  'packages/options/src/zod.ts',
  'packages/options/src/yaml.ts',
];

export default tseslint.config(
  {
    ignores: [
      '.node-lines/**',
      '**/node_modules/**',
      '**/dist/**',
      '**/build/**',
      'coverage/**',
      '**/*.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-syntax': [
        'error',
        {
          selector:
            'CallExpression[callee.object.name=/^(it|test|describe)$/][callee.property.name=/^(only|skip)$/]',
          message: 'Focused or skipped tests must not be committed.',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { ...globals.node },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // inversify, zod and yaml reach memshed's packages only through their one-file builds
    // (scripts/bundle-vendored.mjs): importing them directly would load the slow second copy.
    files: ['packages/*/src/**/*.ts'],
    ignores: VENDORING_MODULES,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [VENDORED.inversify, VENDORED.zod, VENDORED.yaml] },
      ],
    },
  },
  {
    // And RxJS values through '@memshed/core/rx' (one module each): the 'rxjs' index loads all
    // 223 of its files. Tests and the testing helpers may use the index. (This block replaces the
    // rule's options above for the files it matches, so it repeats the others.)
    files: ['packages/*/src/**/*.ts'],
    ignores: [
      ...VENDORING_MODULES,
      'packages/core/src/rx.ts',
      'packages/*/src/**/*.test.ts',
      'packages/*/src/testing/**',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { paths: [VENDORED.inversify, VENDORED.zod, VENDORED.yaml, VENDORED.rxjs] },
      ],
    },
  },
);
