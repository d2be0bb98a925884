// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', '**/build/**', 'coverage/**', '**/*.d.ts'],
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
    // inversify and zod reach memshed's packages only through their one-file builds
    // (scripts/bundle-vendored.mjs): importing them directly would load the slow second copy.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/core/src/inversify.ts', 'packages/options/src/zod.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'inversify',
              message:
                "Import from '@memshed/core/inversify' (one bundled copy; see packages/core/src/inversify.ts).",
              allowTypeImports: true,
            },
            {
              name: 'zod',
              message:
                "Import { z } from '@memshed/options' (the bundled subset; see packages/options/src/zod.ts).",
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
