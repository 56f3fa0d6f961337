// Type-checked lint for every workspace (run per workspace by `turbo run lint`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // apps/*/src/web: plain browser scripts served as they are, outside any tsconfig.
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.cjs', '**/*.mjs', '.cache/**', 'apps/*/src/web/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
        // Nest's DI reads constructor parameter types at run time: keep those imports as values.
        emitDecoratorMetadata: true,
        experimentalDecorators: true,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@orderflow/*/src/*', '@orderflow/*/dist/*'], message: 'import a package through its index only' },
            { group: ['**/apps/*'], message: 'an app never imports another app' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      // jest's asymmetric matchers (expect.any, expect.stringContaining) are typed any
      '@typescript-eslint/no-unsafe-assignment': 'off',
      // fakes implement async interfaces without awaiting anything
      '@typescript-eslint/require-await': 'off',
    },
  },
);
