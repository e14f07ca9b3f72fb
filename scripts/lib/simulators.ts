import path from 'node:path';
import { type Config } from '../../config';
import { createAdaptiveSimulator } from '../../simulators/adaptive/simulator';
import { createAnaplanSimulator } from '../../simulators/anaplan';
import { createD365Simulator } from '../../simulators/d365';
import { createOracleSimulator } from '../../simulators/oracle/simulator';
import { createSapSimulator } from '../../simulators/sap/simulator';
import { createNetSuiteSimulator } from '../../simulators/netsuite/simulator';
import { sapCompanyCodes } from '../../simulators/scenario/europe';
import { createProcurementSimulator } from '../../simulators/procurement';
import {
  seedManufacturer,
  seedCorporateBooks,
  seedAcquiredBooks,
  seedEuropeBooks,
  seedOracleLedger,
  seedAdaptivePlanning,
  seedServicesCompany,
  seedSubsidiaries,
} from '../../simulators/scenario/seed';
import { d365LedgerDimension } from '../../simulators/scenario/services-company';

/**
 * The embedded Dynamics 365, Oracle Fusion, SAP S/4HANA, NetSuite, Anaplan, Adaptive Planning and procurement (Coupa-style)
 * simulators on their configured ports, each seeded with the books of the entities it keeps. State is kept under <data dir>/simulators/ (like the dev
 * server's database), so a restart remembers what was posted. The procurement simulator calls closeloop's
 * API at `closeloopUrl`.
 */
export async function startSimulators(
  config: Config,
  closeloopUrl: string,
  stateDir = path.join(config.dataDir, 'simulators'),
) {
  const d365 = createD365Simulator({
    stateFile: path.join(stateDir, 'd365.json'),
    // Posted vendor invoices reach closeloop as business events within seconds (near real time).
    businessEventEndpoint: {
      url: `${closeloopUrl}/v1/webhooks/d365/business-events`,
      headers: { 'x-api-key': config.simulators.d365EventsApiKey },
    },
  });
  const anaplan = createAnaplanSimulator({ stateFile: path.join(stateDir, 'anaplan.json') });
  const adaptive = createAdaptiveSimulator({
    login: config.adaptive.login,
    password: config.adaptive.password,
    stateFile: path.join(stateDir, 'adaptive.json'),
  });
  const oracle = createOracleSimulator({ stateFile: path.join(stateDir, 'oracle.json') });
  const sap = createSapSimulator({ stateFile: path.join(stateDir, 'sap.json') });
  // The simulated account takes what the configured token-based credentials sign (OAuth 2.0 needs a certificate).
  const netsuiteAuth = config.netsuite.auth;
  const netsuite = createNetSuiteSimulator({
    stateFile: path.join(stateDir, 'netsuite.json'),
    accountId: config.netsuite.accountId,
    ...(netsuiteAuth.kind === 'tba' ? { tba: netsuiteAuth } : {}),
    concurrencyLimit: config.netsuite.concurrencyLimit,
  });
  const procurement = createProcurementSimulator({
    closeloopUrl,
    apiKey: config.simulators.procurementApiKey,
    legalEntity: 'ACME-US',
    stateFile: path.join(stateDir, 'procurement.json'),
    // Approved invoices are posted in Dynamics 365, whose ledger brings them back as actuals.
    erpInvoiceExport: {
      url: `http://127.0.0.1:${config.simulators.d365Port}`,
      company: 'acus',
      ledgerDimension: d365LedgerDimension,
    },
  });
  const started: { close(): Promise<void> }[] = [];
  try {
    const d365Server = await d365.listen(config.simulators.d365Port);
    started.push(d365Server);
    const anaplanServer = await anaplan.listen(config.simulators.anaplanPort);
    started.push(anaplanServer);
    const adaptiveServer = await adaptive.listen(config.simulators.adaptivePort);
    started.push(adaptiveServer);
    const procurementServer = await procurement.listen(config.simulators.procurementPort);
    started.push(procurementServer);
    const oracleServer = await oracle.listen(config.simulators.oraclePort);
    started.push(oracleServer);
    const sapServer = await sap.listen(config.simulators.sapPort);
    started.push(sapServer);
    const netsuiteServer = await netsuite.listen(config.simulators.netsuitePort);
    started.push(netsuiteServer);
    seedServicesCompany({ d365, anaplan });
    seedSubsidiaries({ d365, anaplan });
    seedAdaptivePlanning(adaptive);
    seedManufacturer({ d365 });
    seedOracleLedger(oracle, [2026, 2027, 2028]);
    seedCorporateBooks(oracle, { fiscalYear: 2028 });
    sap.setCompanyCodes(sapCompanyCodes);
    seedEuropeBooks(sap, { fiscalYear: 2028 });
    seedAcquiredBooks(netsuite, { fiscalYear: 2028, years: [2026, 2027, 2028, 2029] });
    return {
      d365: d365Server,
      anaplan: anaplanServer,
      adaptive: adaptiveServer,
      procurement: procurementServer,
      oracle: oracleServer,
      sap: sapServer,
      netsuite: netsuiteServer,
      stop: async () => {
        for (const s of started.reverse()) await s.close();
      },
    };
  } catch (err) {
    for (const s of started.reverse()) await s.close();
    throw err;
  }
}

/** Where the API listens, as a local client reaches it. */
export const localApiUrl = (config: Config) =>
  `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`;
