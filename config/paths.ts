import path from 'node:path';

/** The repository root, whether running from sources (tsx, jest) or from a build under dist/. */
export const PROJECT_ROOT =
  path.basename(path.resolve(__dirname, '..')) === 'dist'
    ? path.resolve(__dirname, '..', '..')
    : path.resolve(__dirname, '..');
