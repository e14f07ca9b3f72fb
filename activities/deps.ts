import { type Database } from '../db/client';
import { type Notifier } from './connectors/notify/notifier';
import { ApplicationFailure } from '@temporalio/common';
import { FailureType } from '../domain/failures';
import {
  type BudgetTarget,
  type ErpConnector,
  type LedgerSource,
  type PlanningConnector,
} from './connectors/types';
import { notFound } from './failures';

/** What activities need from the outside world; the worker builds it once, tests pass simulator-backed ones. */
export interface ActivityDeps {
  db: Database;
  /** Every ERP connected: each a budget target, most also the books of the entities they keep. */
  erps: Readonly<Record<string, BudgetTarget & Partial<LedgerSource>>>;
  planning: PlanningConnector;
  /** Approval notifications: mail and chat. */
  notifier: Notifier;
  approvals: {
    /** Verifies the tokens of decision signals (the API signs them with the same key). */
    signingKey: string;
    /** Where review links in notifications point. */
    publicUrl: string;
  };
}

/** The ERP as a budget target. */
export function erpFor(deps: Pick<ActivityDeps, 'erps'>, system: string): BudgetTarget {
  const erp = deps.erps[system];
  if (!erp) throw notFound(`no ERP connector is configured for ${system}`);
  return erp;
}

/** The ERP as the system of record of an entity's books: refused for one connected only as a budget target. */
export function booksFor(deps: Pick<ActivityDeps, 'erps'>, system: string): ErpConnector {
  const erp = erpFor(deps, system) as BudgetTarget & Partial<LedgerSource>;
  if (!erp.fetchActualsPage || !erp.fetchOpenCommitments || !erp.fetchExchangeRates || !erp.fetchMasterData)
    throw ApplicationFailure.nonRetryable(
      `closeloop reads no books from ${system} yet: it receives budgets by route, but an entity's books (legal_entities.erp_system) must be kept in an ERP closeloop reads actuals from (docs/compatibility.md)`,
      FailureType.ValidationFailed,
    );
  return erp as ErpConnector;
}
