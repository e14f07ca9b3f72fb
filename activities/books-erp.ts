import { cutoversTouching } from '../db/queries/cutovers';
import { type LegalEntityRow } from '../db/queries/reference';
import { routesOverlapping } from '../db/queries/routes';
import { booksOn } from '../domain/cutover';
import { type Database } from '../db/client';
import { notFound } from './failures';

/**
 * The ERP whose books count for the entity on a day (its own, or after a cut-over the one domain/cutover says),
 * with the company and form the entity's figures are read there: what a snapshot as of that day (open orders,
 * rates, master data) is read from.
 */
export async function booksErpOn(
  db: Database,
  entity: Pick<LegalEntityRow, 'code' | 'erpSystem' | 'erpCompany'>,
  day: string,
): Promise<{ system: string; company: string; settings?: Record<string, string>; cutoverId?: string }> {
  const [cut] = await cutoversTouching(db, entity.code, { from: day, to: day });
  const system = cut ? booksOn(cut, day) : entity.erpSystem;
  return {
    system,
    ...(await booksIn(db, entity, system, { from: day, to: day })),
    ...(cut ? { cutoverId: cut.id } : {}),
  };
}

/**
 * Where the entity's figures are read in one ERP over some days: its own company in its own ERP, else the company
 * of its route there; and the route's form (display value format, segments) either way.
 */
export async function booksIn(
  db: Database,
  entity: Pick<LegalEntityRow, 'code' | 'erpSystem' | 'erpCompany'>,
  system: string,
  window: { from: string; to: string },
): Promise<{ company: string; settings?: Record<string, string> }> {
  const route = (await routesOverlapping(db, entity.code, window)).filter((t) => t.target === system).at(-1);
  const own = system === entity.erpSystem;
  if (!own && !route)
    throw notFound(`${entity.code} has no route to ${system}, whose books are read from ${window.from}`);
  return {
    company: own ? entity.erpCompany : route!.company,
    ...(route ? { settings: route.settings } : {}),
  };
}

export const today = () => new Date().toISOString().slice(0, 10);
