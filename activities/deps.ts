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
import { planningPlatformOn } from '../db/queries/planning-platforms';

/** What activities need from the outside world; the worker builds it once, tests pass simulator-backed ones. */
export interface ActivityDeps {
  db: Database;
  /** Every ERP connected: each a budget target, most also the books of the entities they keep. */
  erps: Readonly<Record<string, BudgetTarget & Partial<LedgerSource>>>;
  /** Every planning platform connected (Anaplan, Adaptive Planning): which one an entity is on is data. */
  plannings: Readonly<Record<string, PlanningConnector>>;
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

/**
 * The planning platform the entity is on, on `day` (db/queries/planning-platforms), with the settings its
 * adapter reads there: refused when the entity has none then or its platform is not connected.
 */
export async function planningOn(
  deps: Pick<ActivityDeps, 'db' | 'plannings'>,
  legalEntity: string,
  day: string,
): Promise<{ connector: PlanningConnector; settings: Readonly<Record<string, string>> }> {
  const row = await planningPlatformOn(deps.db, legalEntity, day);
  if (!row) throw notFound(`${legalEntity} is on no planning platform on ${day}`);
  const connector = deps.plannings[row.platform];
  if (!connector) throw notFound(`no planning connector is configured for ${row.platform} (${legalEntity})`);
  return { connector, settings: row.settings };
}
