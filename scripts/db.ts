import { loadConfig } from '../config';
import { openDatabase } from '../db/client';
import { ensureDatabase, migrateDatabase } from '../db/migrate';
import { seedReferenceData } from '../db/seed';

/**
 * npm run db:migrate — create the database if needed and apply pending migrations.
 * npm run db:seed    — the same, then load the services-company reference data (safe to run twice).
 */
async function main(command: string | undefined) {
  if (command !== 'migrate' && command !== 'seed') throw new Error('usage: tsx scripts/db.ts migrate|seed');
  const config = loadConfig();
  await ensureDatabase(config.database.url);
  const handle = openDatabase(config.database.url, { poolSize: 1 });
  try {
    await migrateDatabase(handle.db);
    console.log(`migrated ${new URL(config.database.url).pathname.slice(1)}`);
    if (command === 'seed') {
      await seedReferenceData(handle.db);
      console.log(
        'seeded reference data for ACME-US (entity, FY2026–FY2028 calendar, accounts, cost centers, D365 mappings)',
      );
    }
  } finally {
    await handle.close();
  }
}

main(process.argv[2]).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
