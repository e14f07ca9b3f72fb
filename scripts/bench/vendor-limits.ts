/**
 * What a publication would take against each vendor's documented limits, as a projection: the requests closeloop's
 * adapter makes for the work the benchmark did (by its own record), laid out as the vendor's documented batch
 * sizes and concurrency allow, each request at an assumed round trip. The vendors publish no service times and,
 * apart from NetSuite's concurrency, no rate limits for these interfaces: the round trip and Oracle's import job
 * time are assumptions, printed with the projection, not documented figures.
 *
 * Documented (read 2026-12; docs/benchmarks.md cites each):
 * - Dynamics 365 finance and operations: "In finance and operations apps, batch size is limited to 5,000
 *   operations" (Maximize API throughput, learn.microsoft.com/…/service-protection-maximizing-api-throughput);
 *   user-based service protection limits are disabled from 10.0.36, only resource-based throttling (429 with
 *   Retry-After, no published threshold) remains (…/service-protection-api-limits, …/priority-based-throttling).
 * - Oracle Fusion: importBulkData loads a file into GL_BUDGET_INTERFACE and runs Validate and Upload Budgets
 *   (Import Budget Data from a Flat File, docs.oracle.com/…/faigl/import-budget-data-from-a-flat-file.html); no
 *   file size, row or request-rate limit is documented for it.
 * - SAP S/4HANA API_FINPLANNINGDATA_SRV: plan data in $batch change sets; SAP documents no operations-per-batch
 *   or rate limit for it ($batch Processing, help.sap.com SAP Gateway).
 * - NetSuite REST: one budgetImport record per account line, created one per request (Budget Import,
 *   docs.oracle.com/…/article_0305054912.html); the account's concurrency limit is 5 at the standard service
 *   tier, +10 per SuiteCloud Plus license (Enabling Web Services Concurrent Users with SuiteCloud Plus,
 *   …/section_N3448861.html; Sample Scenario, …/section_1525253248.html).
 */

/** What one ERP received in a publication, by closeloop's own record. */
export interface ErpWork {
  system: string;
  lines: number;
  chunks: number;
  periods: number;
}

export interface Projection {
  system: string;
  lines: number;
  /** Requests closeloop's adapter makes for the work. */
  requests: number;
  /** Of them, one after another (the rest in parallel, as far as the documented concurrency allows). */
  sequential: number;
  seconds: number;
  bound: string;
}

export interface Assumptions {
  /** One request's round trip to a vendor's cloud (not documented by any of them). */
  roundTripMs: number;
  /** One Oracle import job (importBulkData, Validate and Upload Budgets), end to end (not documented). */
  oracleJobSeconds: number;
  /** NetSuite's account concurrency limit (documented: 5 at the standard tier, +10 per SuiteCloud Plus). */
  netsuiteConcurrency: number;
}

export const DEFAULT_ASSUMPTIONS: Assumptions = {
  roundTripMs: 300,
  oracleJobSeconds: 60,
  netsuiteConcurrency: 5,
};

/** Dynamics 365's documented largest $batch. */
const D365_BATCH_OPERATIONS = 5000;

export function projectPublication(w: ErpWork, a: Assumptions = DEFAULT_ASSUMPTIONS): Projection {
  const rt = a.roundTripMs / 1000;
  switch (w.system) {
    case 'd365': {
      // Per chunk: find the header by key, create it, read its lines, the lines in one $batch (at most 5,000
      // operations each), wait for completion once: chunks post one after another (the saga's order).
      const batches = Math.max(w.chunks, Math.ceil(w.lines / D365_BATCH_OPERATIONS));
      const requests = w.chunks * 4 + batches;
      return {
        system: w.system,
        lines: w.lines,
        requests,
        sequential: requests,
        seconds: requests * rt,
        bound: `≤ ${D365_BATCH_OPERATIONS} operations per $batch (documented); ${a.roundTripMs} ms a request (assumed)`,
      };
    }
    case 'oracle': {
      // Per chunk: one importBulkData, its job polled, the balances read back: the job dominates.
      const requests = w.chunks * 4;
      return {
        system: w.system,
        lines: w.lines,
        requests,
        sequential: requests,
        seconds: w.chunks * a.oracleJobSeconds + requests * rt,
        bound: `one import job a chunk, ${a.oracleJobSeconds} s each (assumed: Oracle documents no duration or limit)`,
      };
    }
    case 'sap':
      // Per chunk: one $batch of the chunk's scopes.
      return {
        system: w.system,
        lines: w.lines,
        requests: w.chunks,
        sequential: w.chunks,
        seconds: w.chunks * rt,
        bound: `one $batch a chunk; SAP documents no batch or rate limit; ${a.roundTripMs} ms a request (assumed)`,
      };
    case 'netsuite': {
      // One budgetImport per account line (a combination's year, its periods in it), four requests at least:
      // the asynchronous create, its job read once, the job's task list and the task's result naming the record;
      // as many at a time as the account's concurrency allows.
      const records = Math.ceil(w.lines / w.periods);
      const requests = records * 4;
      const sequential = Math.ceil(requests / a.netsuiteConcurrency);
      return {
        system: w.system,
        lines: w.lines,
        requests,
        sequential,
        seconds: sequential * rt,
        bound: `${records.toLocaleString('en')} budgetImport records, ${a.netsuiteConcurrency} requests at once (documented standard tier); ${a.roundTripMs} ms a request (assumed)`,
      };
    }
    default:
      throw new Error(`no vendor limits for ${w.system}`);
  }
}
