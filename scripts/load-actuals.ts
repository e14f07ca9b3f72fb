import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import { loadLedgerExportFile } from '../activities/bulk-load';
import { createConnectors } from '../activities/connectors/registry';
import { loadConfig } from '../config';
import { prepareDatabase } from './lib/database';

/**
 * npm run load:actuals -- --entity ACME-US --file march-ledger.csv [--batch 5000]
 * The month-end bulk load of an entity's posted actuals from its ERP's ledger export, with a progress bar.
 * Safe to run twice, or over lines the hourly sync already counted: every line counts once. Lines that cannot
 * be counted are listed in the dead letters (GET /v1/source-exceptions) for support to fix and replay.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      entity: { type: 'string' },
      file: { type: 'string' },
      batch: { type: 'string', default: '5000' },
    },
  });
  if (!values.entity || !values.file)
    throw new Error('usage: npm run load:actuals -- --entity ACME-US --file <ledger export.csv>');
  const config = loadConfig();
  // The same database npm start uses (started if it is the embedded one), brought to the current schema.
  const database = await prepareDatabase(config, { startEmbedded: true, seed: false });
  const size = statSync(values.file).size;
  const bar = new SingleBar(
    {
      format:
        ' {bar} {percentage}% | {read} read, {inserted} new, {duplicates} already counted, {deadLetters} dead letters | {eta_formatted}',
      hideCursor: true,
    },
    Presets.shades_classic,
  );
  const correlationId = `bulk-load:${values.entity}:${randomUUID()}`;
  bar.start(size, 0, { read: 0, inserted: 0, duplicates: 0, deadLetters: 0 });
  try {
    // PostgreSQL parses the file and counts its lines set-based; rows it cannot take whole come after.
    const result = await loadLedgerExportFile(
      { db: database.handle.db, erps: createConnectors(config, database.handle.db).erps },
      {
        legalEntity: values.entity,
        path: values.file,
        correlationId,
        batchSize: Number(values.batch),
        onProgress: (p) => bar.update(size, p),
      },
    );
    bar.update(size, result);
    bar.stop();
    console.log(
      `${values.entity}: ${result.read} lines read, ${result.inserted} counted, ${result.duplicates} already counted, ${result.deadLetters} kept as dead letters (correlation ${correlationId})`,
    );
    console.log(
      result.path === 'set'
        ? `loaded set-based by PostgreSQL; ${result.rowByRow} rows read one by one (malformed, or not countable whole)`
        : `loaded row by row: ${result.reason}`,
    );
  } finally {
    bar.stop();
    await database.close();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
