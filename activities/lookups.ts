import { type Database } from '../db/client';
import { getVersion } from '../db/queries/budget-versions';
import { getLegalEntity } from '../db/queries/reference';
import { notFound } from './failures';

/** A budget version and its legal entity, or a non-retryable NotFound naming the one that is missing. */
export async function loadVersionWithEntity(db: Database, versionId: string) {
  const version = await getVersion(db, versionId);
  if (!version) throw notFound(`budget version ${versionId} does not exist`);
  const entity = await getLegalEntity(db, version.legalEntity);
  if (!entity) throw notFound(`legal entity ${version.legalEntity} does not exist`);
  return { version, entity };
}
