import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../config';

/** Writes a benchmark's figures to <data dir>/bench/<file> (where `npm run bench` reads them); the path. */
export function writeFigures(file: string, figures: unknown): string {
  const out = path.join(loadConfig().dataDir, 'bench', file);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(figures, null, 2)}\n`);
  return out;
}
