import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { describeDatabase, prepareDatabase } from './lib/database';

/**
 * npm run db:migrate — create the database if needed and apply pending migrations.
 * npm run db:seed    — the same, then load the services-company reference data (safe to run twice).
 * With no DATABASE_URL and no PostgreSQL at the default address, both use (and start) the embedded one.
 */
async function main() {
  const { positionals } = parseArgs({ allowPositionals: true });
  const command = positionals[0];
  if (command !== 'migrate' && command !== 'seed') throw new Error('usage: tsx scripts/db.ts migrate|seed');
  const config = loadConfig();
  const database = await prepareDatabase(config, { startEmbedded: true, seed: command === 'seed' });
  try {
    for (const note of database.notes ?? []) console.log(note);
    console.log(`migrated ${describeDatabase(database, config)}`);
    if (command === 'seed')
      console.log(
        'seeded reference data for ACME-US (entity, FY2026–FY2028 calendar, accounts, cost centers, D365 mappings)',
      );
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
