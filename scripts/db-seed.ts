import { loadConfig } from '../config';
import { openDatabase } from '../db/client';
import { ensureDatabase, migrateDatabase } from '../db/migrate';
import { seedReferenceData } from '../db/seed';

/** npm run db:seed — migrates, then loads the services-company reference data (safe to run twice). */
async function main() {
  const config = loadConfig();
  await ensureDatabase(config.database.url);
  const handle = openDatabase(config.database.url, { poolSize: 1 });
  try {
    await migrateDatabase(handle.db);
    await seedReferenceData(handle.db);
    console.log('seeded reference data for ACME-US (entity, FY2026–FY2028 calendar, accounts, cost centers, D365 mappings)');
  } finally {
    await handle.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
