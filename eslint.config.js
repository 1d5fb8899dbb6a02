// ESLint flat config: typescript-eslint's type-aware recommended rules on every .ts file
// (the project service reads tsconfig.json, so lint and `tsc --noEmit` see the same program),
// and the plain JS recommended rules on the .js/.mjs scripts, which tsconfig does not compile.
// Run with zero warnings: `npm run lint`, and by `npm test` (its pretest step).
import js from '@eslint/js';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['node_modules/', 'sli-report/', '.vitest-artifacts/', 'dist/', 'build/', 'coverage/', 'lab/k8s/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // The point of this config: a promise is awaited, returned, or explicitly `void`ed with
      // a reason; never handed to a callback that ignores it.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // Turned off: async functions without an await are a deliberate interface shape here
      // (callbacks typed to return a promise); forcing an await in them is churn.
      '@typescript-eslint/require-await': 'off',
      // vitest finds a fixture's dependencies by reading its first parameter, which must be an
      // object pattern: a fixture that needs none is written `async ({}, use) => ...`.
      'no-empty-pattern': ['error', { allowObjectPatternsAsParameters: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Turned off in tests only: vitest types its asymmetric matchers (expect.stringMatching,
      // expect.any, ...) as `any`, and tests JSON.parse a written report to compare it whole;
      // typing each of those is churn. Source files keep the rule.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [js.configs.recommended, tseslint.configs.disableTypeChecked],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { ...globals.node },
    },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
);
