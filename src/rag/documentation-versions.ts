import { and, desc, eq, ne, sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import { documentationChunks, documentationVersions } from '../db/schema/documentation-chunks.ts';

/** The version readers see, or `undefined` before the first seed completes. */
export async function getCurrentDocumentationVersion(
  db: Database,
): Promise<{ version: number; embeddingModel: string } | undefined> {
  const [row] = await db
    .select({ version: documentationVersions.version, embeddingModel: documentationVersions.embeddingModel })
    .from(documentationVersions)
    .where(eq(documentationVersions.status, 'current'))
    .limit(1);
  return row;
}

/**
 * The version a seed writes into: the newest unfinished one built with the same model (so an interrupted seed
 * resumes where it stopped), else a new one. Unfinished versions of other models are dropped: they could never
 * be resumed by this seed and would only hold rows.
 */
export async function startDocumentationVersion(
  db: Database,
  options: { embeddingModel: string; origin: string },
): Promise<{ version: number; resumed: boolean }> {
  return db.transaction(async (transaction) => {
    await transaction
      .delete(documentationVersions)
      .where(
        and(
          eq(documentationVersions.status, 'building'),
          ne(documentationVersions.embeddingModel, options.embeddingModel),
        ),
      );
    const [building] = await transaction
      .select({ version: documentationVersions.version })
      .from(documentationVersions)
      .where(
        and(
          eq(documentationVersions.status, 'building'),
          eq(documentationVersions.embeddingModel, options.embeddingModel),
        ),
      )
      .orderBy(desc(documentationVersions.version))
      .limit(1);
    if (building) return { version: building.version, resumed: true };
    const [next] = await transaction
      .select({ version: sql<number>`coalesce(max(${documentationVersions.version}), 0)::int + 1` })
      .from(documentationVersions);
    const version = next?.version ?? 1;
    await transaction
      .insert(documentationVersions)
      .values({ version, embeddingModel: options.embeddingModel, origin: options.origin });
    return { version, resumed: false };
  });
}

/**
 * Makes a fully built version current in one transaction: the old current version is retired and deleted
 * (its chunks go with it through the foreign key), so readers switch from the complete old set to the complete
 * new set with nothing in between.
 */
export async function activateDocumentationVersion(db: Database, version: number): Promise<{ chunkCount: number }> {
  return db.transaction(async (transaction) => {
    // Serialises two seeds finishing at once; the partial unique index would reject the second anyway.
    await transaction.execute(sql`select pg_advisory_xact_lock(7264002)`);
    const [count] = await transaction
      .select({ chunkCount: sql<number>`count(*)::int` })
      .from(documentationChunks)
      .where(eq(documentationChunks.version, version));
    const chunkCount = count?.chunkCount ?? 0;
    await transaction
      .update(documentationVersions)
      .set({ status: 'retired' })
      .where(eq(documentationVersions.status, 'current'));
    await transaction
      .update(documentationVersions)
      .set({ status: 'current', chunkCount, activatedAt: new Date() })
      .where(eq(documentationVersions.version, version));
    await transaction.delete(documentationVersions).where(eq(documentationVersions.status, 'retired'));
    return { chunkCount };
  });
}
