// `npm run db:seed`: migrates and seeds the deterministic development world, then writes its manifest.
import { seedDevWorld, writeManifest } from '../seeds/dev-world.ts';
import { loadConfig } from '../src/config.ts';
import { createDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';

const config = loadConfig();
if (config.NODE_ENV === 'production') {
  process.stderr.write(
    'Refusing to seed when NODE_ENV=production: the development world has users with known tokens.\n',
  );
  process.exit(1);
}
const database = await createDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  await runMigrations(database);
  const manifest = await seedDevWorld(database.db);
  const file = writeManifest(config.DATA_DIR, manifest);
  process.stdout.write(
    `Seeded ${manifest.users.length} users and ${Object.keys(manifest.resources).length} resources; manifest: ${file}\n`,
  );
  for (const user of manifest.users)
    process.stdout.write(`  ${user.username.padEnd(12)} ${user.token.padEnd(26)} ${user.role}\n`);
} finally {
  await database.close();
}
