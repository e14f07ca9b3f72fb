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
            { group: ['../db/*', '../api/*', '../simulators/*', '../workers/*', '../config/*', '../scripts/*'], message: 'Workflows may import only domain/ and workflows/.' },
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use uuid4() or the workflow-provided Math.random deterministically.' },
      ],
    },
  },
  // The layers, and what each may import (the architecture in DESIGN.md):
  //   domain ← nothing of ours · db ← domain · activities ← domain, db, connectors (config types)
  //   workflows ← domain, activity types · api ← domain, db, workflow definitions (workflow types), config
  //   simulators ← domain and the HTTP listener only: they copy the real services, never our adapters.
  layer('domain/**/*.ts', [{ group: ['../*', '../../*'], message: 'domain/ imports nothing of ours outside domain/.' }]),
  layer('db/**/*.ts', [
    {
      group: ['**/activities', '**/activities/**', '**/workflows/**', '**/api/**', '**/config/**', '**/simulators/**', '**/workers/**', '**/scripts/**'],
      message: 'db/ imports only domain/.',
    },
  ]),
  layer('activities/**/*.ts', [
    { group: ['**/workflows/**', '**/api/**', '**/simulators/**', '**/workers/**', '**/scripts/**'], message: 'activities/ import domain/, db/ and their connectors only.' },
    { group: ['**/config', '**/config/**'], allowTypeImports: true, message: 'activities/ take configuration as a type; the worker passes it in.' },
  ]),
  layer('api/**/*.ts', [
    { group: ['**/activities', '**/activities/**', '**/simulators/**', '**/workers/**', '**/scripts/**'], message: 'api/ imports domain/, db/ and workflow definitions only.' },
    { group: ['**/workflows/*', '!**/workflows/definitions'], allowTypeImports: true, message: 'api/ imports workflow definitions; other workflow modules as types only.' },
  ]),
  layer('simulators/**/*.ts', [
    {
      group: ['**/activities', '**/activities/**', '**/db/**', '**/workflows/**', '**/workers/**', '**/scripts/**', '**/config/**', '**/api/*', '!**/api/listen'],
      message: 'A simulator copies the real service: it imports domain/ and the HTTP listener, never our adapters or store.',
    },
  ]),
  layer('config/**/*.ts', [
    { group: ['../*', '!../domain', '!../domain/*'], message: 'config/ imports only domain/.' },
  ]),
);

/** A `no-restricted-imports` rule for one layer's files. */
function layer(files, patterns) {
  return { files: [files], rules: { 'no-restricted-imports': ['error', { patterns }] } };
}
