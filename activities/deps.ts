import { type Database } from '../db/client';
import { type Notifier } from './connectors/notify/notifier';
import { type ErpConnector, type PlanningConnector } from './connectors/types';
import { notFound } from './failures';

/** What activities need from the outside world; the worker builds it once, tests pass simulator-backed ones. */
export interface ActivityDeps {
  db: Database;
  erps: Readonly<Record<string, ErpConnector>>;
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

export function erpFor(deps: Pick<ActivityDeps, 'erps'>, system: string): ErpConnector {
  const erp = deps.erps[system];
  if (!erp) throw notFound(`no ERP connector is configured for ${system}`);
  return erp;
}
