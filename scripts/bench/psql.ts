import { execFileSync } from 'node:child_process';

/** Runs one psql command against a bench database; the seconds it took. */
export function psqlCopy(url: string, command: string): number {
  const started = process.hrtime.bigint();
  execFileSync('psql', [url, '-v', 'ON_ERROR_STOP=1', '-c', command], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/**
 * The ceiling for lines landing where closeloop counts them: psql \copy of the lines closeloop wrote into a
 * table shaped, indexed and logged like actual_lines. Its seconds.
 */
export async function actualLinesCopyCeiling(
  url: string,
  sql: (strings: TemplateStringsArray) => Promise<unknown>,
  file: string,
): Promise<number> {
  psqlCopy(url, `\\copy (select * from actual_lines) to '${file}' with (format csv)`);
  await sql`create table bench_actual_lines (like actual_lines including all)`;
  return psqlCopy(url, `\\copy bench_actual_lines from '${file}' with (format csv)`);
}
