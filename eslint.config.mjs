// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'fs', 'fs/promises', 'path', 'os', 'child_process', 'crypto', 'http', 'https', 'net', 'dns', 'worker_threads',
  'cluster', 'process', 'timers', 'stream', 'zlib', 'url', 'util', 'events',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'db/migrations/', 'coverage/', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // Workflow code is replayed: it may only import deterministic code and activity *types*.
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows must be deterministic: no Node built-ins.' })),
            ...nodeBuiltins.map((name) => ({ name: `node:${name}`, message: 'Workflows must be deterministic: no Node built-ins.' })),
          ],
          patterns: [
            { group: ['../activities/*', '../activities', '!../activities/index'], allowTypeImports: true, message: 'Import activity types only.' },
            { group: ['../db/*', '../api/*', '../simulators/*', '../workers/*', '../config/*'], message: 'Workflows may import only domain/ and workflows/.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use uuid4() or the workflow-provided Math.random deterministically.' },
      ],
    },
  },
);
