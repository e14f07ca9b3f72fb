import { type Config } from '../../config';
import { createAnaplanConnector } from './anaplan';
import { createD365Connector } from './d365';
import { createOracleConnector } from './oracle/connector';
import { createSapConnector } from './sap/connector';
import { createNotifier, type Notifier } from './notify/notifier';
import { type BudgetTarget, type LedgerSource, type PlanningConnector } from './types';

/**
 * Builds the configured connectors once (real endpoints and the embedded simulators differ only in URLs),
 * the notifier, and the approval settings activities need.
 */
export function createConnectors(config: Config): {
  erps: Record<string, BudgetTarget & Partial<LedgerSource>>;
  planning: PlanningConnector;
  notifier: Notifier;
  approvals: { signingKey: string; publicUrl: string };
} {
  return {
    notifier: createNotifier(config.notifications),
    approvals: { signingKey: config.approvals.signingKey, publicUrl: config.approvals.publicUrl },
    erps: {
      d365: createD365Connector({ ...config.d365, dimensionFormat: ['account', 'costCenter'] }),
      oracle: createOracleConnector(config.oracle),
      sap: createSapConnector(config.sap),
    },
    planning: createAnaplanConnector(config.anaplan),
  };
}
