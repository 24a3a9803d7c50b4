import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { seedDevWorld } from '../../seeds/dev-world.ts';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';

/** An in-memory PGlite with pgvector, migrated and seeded with the development world. */
export async function createSeededEmbeddedDatabase(): Promise<DatabaseHandle> {
  const database = await createDatabase({ dataDir: 'memory://' });
  await runMigrations(database);
  await seedDevWorld(database.db);
  return database;
}

export interface ServedDatabase {
  /** The `DATABASE_URL` other processes use. */
  url: string;
  embedded: DatabaseHandle;
  stop(): Promise<void>;
}

/**
 * An in-memory PGlite served over the Postgres wire protocol (what `npm run db:serve` does), so
 * the node-postgres path and separate API/worker processes can be tested without a Postgres server.
 */
export async function serveSeededDatabase(): Promise<ServedDatabase> {
  const embedded = await createSeededEmbeddedDatabase();
  if (!embedded.pglite) throw new Error('expected an embedded database');
  const server = new PGLiteSocketServer({ db: embedded.pglite, host: '127.0.0.1', port: 0, maxConnections: 100 });
  await server.start();
  // getServerConn() is `host:port` once listening, with the port the OS assigned.
  const connection = server.getServerConn();
  return {
    url: `postgres://postgres@${connection}/postgres?sslmode=disable`,
    embedded,
    async stop() {
      await server.stop();
      await embedded.close();
    },
  };
}
