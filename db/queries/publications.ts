import { and, asc, desc, eq } from 'drizzle-orm';
import { type DbOrTx } from '../client';
import { publicationChunks, publications } from '../schema';

export type PublicationRow = typeof publications.$inferSelect;
export type PublicationChunkRow = typeof publicationChunks.$inferSelect;

export async function findPublication(db: DbOrTx, versionId: string, target: string, revision: number) {
  const [row] = await db
    .select()
    .from(publications)
    .where(
      and(
        eq(publications.versionId, versionId),
        eq(publications.target, target),
        eq(publications.revision, revision),
      ),
    );
  return row;
}

export async function getPublication(db: DbOrTx, publicationId: string) {
  const [row] = await db.select().from(publications).where(eq(publications.id, publicationId));
  return row;
}

export async function publicationsOfVersion(db: DbOrTx, versionId: string) {
  return db
    .select()
    .from(publications)
    .where(eq(publications.versionId, versionId))
    .orderBy(asc(publications.target), desc(publications.revision));
}

export async function getChunk(
  db: DbOrTx,
  publicationId: string,
  chunkIndex: number,
  opts: { forUpdate?: boolean } = {},
) {
  const q = db
    .select()
    .from(publicationChunks)
    .where(
      and(eq(publicationChunks.publicationId, publicationId), eq(publicationChunks.chunkIndex, chunkIndex)),
    );
  const [row] = opts.forUpdate ? await q.for('update') : await q;
  return row;
}

export async function chunksOf(db: DbOrTx, publicationId: string) {
  return db
    .select()
    .from(publicationChunks)
    .where(eq(publicationChunks.publicationId, publicationId))
    .orderBy(asc(publicationChunks.chunkIndex));
}
