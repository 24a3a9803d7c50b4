import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migrateWithDrizzle } from 'drizzle-orm/pglite/migrator';
import type { DatabaseHandle } from './client.ts';

export const migrationsFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

/** Any fixed number; all processes of this service agree on it so only one migrates at a time. */
const migrationLockKey = 7_264_001;

/**
 * Applies pending SQL migrations. Idempotent: drizzle records applied migrations in
 * `drizzle.__drizzle_migrations`. Against a server, an advisory lock serializes the API and worker
 * processes that start together.
 */
export async function runMigrations(handle: DatabaseHandle): Promise<void> {
  if (handle.kind === 'embedded') {
    await migrateWithDrizzle(handle.db as unknown as PgliteDatabase, { migrationsFolder });
    return;
  }
  await handle.db.transaction(async (transaction) => {
    await transaction.execute(sql`select pg_advisory_xact_lock(${migrationLockKey})`);
    await migratePostgres(transaction as unknown as NodePgDatabase, { migrationsFolder });
  });
}
