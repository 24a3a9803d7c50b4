// `npm run db:serve`: serves the embedded PGlite database over the Postgres wire protocol, so the
// API and workers can run as separate processes without a Postgres server.
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { seedDevWorld, writeManifest } from '../seeds/dev-world.ts';
import { loadConfig } from '../src/config.ts';
import { createDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';

const config = loadConfig();
const database = await createDatabase({ dataDir: config.DATA_DIR });
await runMigrations(database);
const [existing] =
  (await database.pglite?.query<{ users: number }>('select count(*)::int as users from users'))?.rows ?? [];
if (config.SEED_ON_START && config.NODE_ENV !== 'production' && existing?.users === 0) {
  const file = writeManifest(config.DATA_DIR, await seedDevWorld(database.db));
  process.stdout.write(`Seeded the development world; tokens and ids are in ${file}\n`);
}
if (!database.pglite) throw new Error('db:serve needs the embedded database');
// PGlite has one backend; the server multiplexes client connections onto it, one query at a time.
const server = new PGLiteSocketServer({
  db: database.pglite,
  host: '127.0.0.1',
  port: config.DB_SERVE_PORT,
  maxConnections: 100,
});
await server.start();
process.stdout.write(`Serving the embedded database on 127.0.0.1:${config.DB_SERVE_PORT}\n`);
process.stdout.write(`DATABASE_URL=postgres://postgres@127.0.0.1:${config.DB_SERVE_PORT}/postgres?sslmode=disable\n`);
const stop = async () => {
  await server.stop();
  await database.close();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
