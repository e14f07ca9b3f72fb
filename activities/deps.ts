import { type Database } from '../db/client';
import { type ErpConnector, type PlanningConnector } from './connectors/types';
import { notFound } from './failures';

/** What activities need from the outside world; the worker builds it once, tests pass simulator-backed ones. */
export interface ActivityDeps {
  db: Database;
  erps: Readonly<Record<string, ErpConnector>>;
  planning: PlanningConnector;
}

export function erpFor(deps: Pick<ActivityDeps, 'erps'>, system: string): ErpConnector {
  const erp = deps.erps[system];
  if (!erp) throw notFound(`no ERP connector is configured for ${system}`);
  return erp;
}
