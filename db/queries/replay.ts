import { type Database } from '../client';
import { ACTUALS_STREAM, reprocessActualExceptions } from './actuals';
import { MASTER_DATA_STREAM, reprocessMasterDataExceptions } from './master-data-sync';
import { type LegalEntityRow } from './reference';
import { type ReplayRequest } from './source-exceptions';
import { loadSourceContext } from './source-lines';

/** The streams whose dead letters replay on their own (purchase-order lines settle with the next snapshot). */
export const REPLAYABLE_STREAMS = [ACTUALS_STREAM, MASTER_DATA_STREAM] as const;
export type ReplayableStream = (typeof REPLAYABLE_STREAMS)[number];

/**
 * The one replay path of the dead-letter store, for the API and the CLI alike: each open dead letter of the
 * stream is taken through again as if it had just arrived, by the same code that first kept it.
 */
export async function replaySourceExceptions(
  db: Database,
  entity: LegalEntityRow,
  r: ReplayRequest & { stream: ReplayableStream },
): Promise<{ reprocessed: number; stillFailing: number; duplicates: number }> {
  if (r.stream === MASTER_DATA_STREAM) {
    return reprocessMasterDataExceptions(db, {
      ...r,
      legalEntity: entity.code,
      sourceSystem: entity.erpSystem,
      onDate: new Date().toISOString().slice(0, 10),
    });
  }
  return reprocessActualExceptions(db, { ...r, ctx: await loadSourceContext(db, entity) });
}
