import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { openDatabase } from '../db/client';
import { locateDatabase } from '../db/embedded';
import { verifyAuditChain } from '../db/queries/audit';

/**
 * npm run audit:verify [-- --stream budget:ACME-US] [-- --json]
 * Recomputes every audit stream's hash chain from its first entry and says, per stream, whether it is intact
 * and where it first breaks. Exits 1 when any stream is broken, so it can gate a job or an auditor's script.
 */
async function main() {
  const { values } = parseArgs({
    options: { stream: { type: 'string' }, json: { type: 'boolean', default: false } },
  });
  const config = loadConfig();
  const located = await locateDatabase({ ...config.database, startEmbedded: false });
  const database = openDatabase(located.url, { poolSize: 1 });
  try {
    const result = await verifyAuditChain(database.db, { stream: values.stream });
    if (values.json) console.log(JSON.stringify(result, null, 2));
    else {
      for (const s of result.streams) {
        console.log(
          `${s.ok ? 'ok     ' : 'BROKEN '} ${s.stream.padEnd(32)} ${String(s.entries).padStart(7)} entries${s.ok ? '' : `, first bad entry seq ${s.brokenAt}`}`,
        );
      }
      console.log(
        result.ok
          ? `audit log intact: ${result.entries} entries in ${result.streams.length} stream(s)`
          : `audit log BROKEN at seq ${result.brokenAt}`,
      );
    }
    process.exitCode = result.ok ? 0 : 1;
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});
