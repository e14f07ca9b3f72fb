import { type Config } from '../../config';
import { createAnaplanConnector } from './anaplan';
import { createD365Connector } from './d365';
import { createOracleConnector } from './oracle/connector';
import { createSapConnector } from './sap/connector';
import { createNetSuiteConnector } from './netsuite/connector';
import { ApplicationFailure } from '@temporalio/common';
import { type Database } from '../../db/client';
import { withSlot } from '../../db/queries/locks';
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
      netsuite: createNetSuiteConnector({
        ...config.netsuite,
        slot: db
          ? (fn) =>
              withSlot(db, `netsuite:${config.netsuite.accountId}`, config.netsuite.concurrencyLimit, fn, {
                waitMs: config.netsuite.slotWaitMs,
                onFull: () =>
                  ApplicationFailure.retryable(
                    `all ${config.netsuite.concurrencyLimit} of NetSuite account ${config.netsuite.accountId}'s concurrency slots stayed busy for ${config.netsuite.slotWaitMs} ms`,
                    FailureType.ConnectorUnavailable,
                  ),
              })
          : undefined,
      }),
    },
    planning: createAnaplanConnector(config.anaplan),
  };
}
