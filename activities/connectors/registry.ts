import { type Config } from '../../config';
import { createAdaptiveConnector } from './adaptive/connector';
import { createAnaplanConnector } from './anaplan';
import { createD365Connector } from './d365';
import { createOracleConnector } from './oracle/connector';
import { createSapConnector } from './sap/connector';
import { createNetSuiteConnector } from './netsuite/connector';
import { ApplicationFailure } from '@temporalio/common';
import { type Database } from '../../db/client';
import { withSlot, withSlots } from '../../db/queries/locks';
import { FailureType } from '../../domain/failures';
import { createNotifier, type Notifier } from './notify/notifier';
import { type BudgetTarget, type LedgerSource, type PlanningConnector } from './types';

/**
 * Builds the configured connectors once (real endpoints and the embedded simulators differ only in URLs),
 * the notifier, and the approval settings activities need. With the database, NetSuite's account-wide
 * concurrency limit is kept by every worker together (advisory-lock slots); without it (a one-off script),
 * by nobody.
 */
export function createConnectors(
  config: Config,
  db?: Database,
): {
  erps: Record<string, BudgetTarget & Partial<LedgerSource>>;
  plannings: Record<string, PlanningConnector>;
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
      netsuite: createNetSuiteConnector({
        ...config.netsuite,
        ...(db ? netSuiteSlots(db, config.netsuite) : {}),
      }),
    },
    plannings: {
      anaplan: createAnaplanConnector(config.anaplan),
      adaptive: createAdaptiveConnector(config.adaptive),
    },
  };
}

/** NetSuite's account-wide concurrency slots, kept in the database for every worker of the deployment. */
function netSuiteSlots(db: Database, netsuite: Config['netsuite']) {
  const name = `netsuite:${netsuite.accountId}`;
  const opts = {
    waitMs: netsuite.slotWaitMs,
    onFull: () =>
      ApplicationFailure.retryable(
        `all ${netsuite.concurrencyLimit} of NetSuite account ${netsuite.accountId}'s concurrency slots stayed busy for ${netsuite.slotWaitMs} ms`,
        FailureType.ConnectorUnavailable,
      ),
  };
  return {
    slot: <T>(fn: () => Promise<T>) => withSlot(db, name, netsuite.concurrencyLimit, fn, opts),
    slots: <T>(want: number, fn: (taken: number) => Promise<T>) =>
      withSlots(db, name, netsuite.concurrencyLimit, want, fn, opts),
  };
}
