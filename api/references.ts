import { type Database } from '../db/client';
import { getLegalEntity, type LegalEntityRow } from '../db/queries/reference';
import { type FieldIssue } from '../domain/zod-issues';
import { HttpError } from './errors';

/**
 * Requests name things (legal entities, fiscal years, periods, exceptions); each is checked against the
 * database before anything is started or written, and every unknown one is named in one 422 answer.
 */
export function unknownReference(issues: FieldIssue[]): HttpError {
  return new HttpError(422, 'unknown_reference', 'the request names something closeloop does not know', {
    issues,
  });
}

export async function knownLegalEntity(
  db: Database,
  code: string,
  field = 'legalEntity',
): Promise<LegalEntityRow> {
  const entity = await getLegalEntity(db, code);
  if (!entity) throw unknownReference([{ field, message: `${code} is not a legal entity closeloop knows` }]);
  return entity;
}
