import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import lockfile from 'proper-lockfile';
import * as schema from './schema/index.ts';

export type Schema = typeof schema;
/** The drizzle handle every query function takes first; the same type for PGlite and node-postgres. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export interface DatabaseHandle {
  db: Database;
  /** `embedded` is PGlite in this process; `postgres` is a server reached with node-postgres. */
  kind: 'embedded' | 'postgres';
  /** The PGlite instance, when embedded (for `db:serve`). */
  pglite?: PGlite;
  /** Runs plain SQL (migrations' advisory lock, health checks). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export class DatabaseLockedError extends Error {
  override name = 'DatabaseLockedError';
}

export interface CreateDatabaseOptions {
  /** A postgres:// URL; when absent, the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** Where PGlite keeps its files (`<dataDir>/pglite`), or `memory://` for an in-memory database. */
  dataDir: string;
  poolSize?: number;
  /** Called with every SQL statement drizzle sends (benchmarks count queries with it). */
  onQuery?: (query: string) => void;
}

/** `DATABASE_URL` → a node-postgres pool; unset → embedded PGlite with pgvector under `<dataDir>/pglite`. */
export async function createDatabase(options: CreateDatabaseOptions): Promise<DatabaseHandle> {
  const logger = options.onQuery ? { logQuery: options.onQuery } : undefined;
  if (options.databaseUrl) return createPostgresDatabase(options.databaseUrl, options.poolSize ?? 10, logger);
  return createEmbeddedDatabase(options.dataDir, logger);
}

type QueryLogger = { logQuery: (query: string) => void } | undefined;

async function createPostgresDatabase(
  databaseUrl: string,
  poolSize: number,
  logger: QueryLogger,
): Promise<DatabaseHandle> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 10_000 });
  // An idle client losing its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  const db = drizzlePostgres(pool, { schema, ...(logger ? { logger } : {}) }) as unknown as Database;
  return {
    db,
    kind: 'postgres',
    async ping() {
      await pool.query('select 1');
    },
    async close() {
      await pool.end();
    },
  };
}

async function createEmbeddedDatabase(dataDir: string, logger: QueryLogger): Promise<DatabaseHandle> {
  const inMemory = dataDir === 'memory://';
  let release: (() => Promise<void>) | undefined;
  let directory = dataDir;
  if (!inMemory) {
    directory = path.resolve(dataDir, 'pglite');
    mkdirSync(directory, { recursive: true });
    try {
      // PGlite is single-process: a second process writing the same files would corrupt them.
      release = await lockfile.lock(directory, { stale: 15_000, update: 5_000, realpath: false });
    } catch (error) {
      throw new DatabaseLockedError(
        `The embedded database at ${directory} is already open in another process. Run a single \`npm start\`, or serve it with \`npm run db:serve\` and point the other processes at it with DATABASE_URL.`,
        { cause: error },
      );
    }
  }
  const pglite = await PGlite.create(inMemory ? 'memory://' : directory, { extensions: { vector } });
  const db = drizzlePglite(pglite, { schema, ...(logger ? { logger } : {}) }) as unknown as Database;
  return {
    db,
    kind: 'embedded',
    pglite,
    async ping() {
      await pglite.query('select 1');
    },
    async close() {
      await pglite.close();
      await release?.();
    },
  };
}
