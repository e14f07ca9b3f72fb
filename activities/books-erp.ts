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
  const route = (await routesOverlapping(db, entity.code, { from: day, to: day }))
    .filter((t) => t.target === system)
    .at(-1);
  if (system !== entity.erpSystem && !route)
    throw notFound(`${entity.code} has no route to ${system}, whose books count on ${day}`);
  return {
    system,
    company: system === entity.erpSystem ? entity.erpCompany : route!.company,
    ...(route ? { settings: route.settings } : {}),
    ...(cut ? { cutoverId: cut.id } : {}),
  };
}

export const today = () => new Date().toISOString().slice(0, 10);
