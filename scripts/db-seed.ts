// `npm run db:seed [-- --filter=dev,gitlab_duo]`: migrates and seeds a deterministic world, then writes its
// manifest. `dev` (the default) is the development world; `gitlab_duo` is the evaluation world (GitLab's
// `FILTER=gitlab_duo`), with fixed ids an external evaluation dataset can refer to.
import { parseArgs } from 'node:util';
import { seedDevWorld, writeManifest } from '../seeds/dev-world.ts';
import { SeedConflictError, seedGitlabDuoWorld, writeGitlabDuoManifest } from '../seeds/gitlab-duo-world.ts';
import { loadConfig } from '../src/config.ts';
import { createDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';

const worlds = ['dev', 'gitlab_duo'] as const;
const { values } = parseArgs({ options: { filter: { type: 'string', default: 'dev' } } });
const wanted = (values.filter ?? 'dev').split(',').map((name) => name.trim());
const unknown = wanted.filter((name) => !(worlds as readonly string[]).includes(name));
if (unknown.length > 0) {
  process.stderr.write(`Unknown --filter ${unknown.join(', ')}; use ${worlds.join(', ')} (comma-separated)\n`);
  process.exit(2);
}

const config = loadConfig();
if (config.NODE_ENV === 'production') {
  process.stderr.write('Refusing to seed when NODE_ENV=production: the seeded worlds have users with known tokens.\n');
  process.exit(1);
}
const database = await createDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.DATA_DIR });
try {
  await runMigrations(database);
  if (wanted.includes('dev')) {
    const manifest = await seedDevWorld(database.db);
    const file = writeManifest(config.DATA_DIR, manifest);
    process.stdout.write(
      `Seeded ${manifest.users.length} users and ${Object.keys(manifest.resources).length} resources; manifest: ${file}\n`,
    );
    for (const user of manifest.users)
      process.stdout.write(`  ${user.username.padEnd(12)} ${user.token.padEnd(26)} ${user.role}\n`);
  }
  if (wanted.includes('gitlab_duo')) {
    const report = await seedGitlabDuoWorld(database.db);
    const file = writeGitlabDuoManifest(config.DATA_DIR, report.manifest);
    const total = (counts: Record<string, number>) => Object.values(counts).reduce((sum, count) => sum + count, 0);
    process.stdout.write(
      `Seeded the gitlab-duo evaluation world: ${total(report.inserted)} rows written, ${total(report.unchanged)} already present; manifest: ${file}\n`,
    );
    for (const user of report.manifest.users.filter((candidate) => candidate.token)) {
      process.stdout.write(`  ${user.username.padEnd(14)} ${user.token} (${user.access}, Duo Enterprise seat)\n`);
    }
  }
} catch (error) {
  if (!(error instanceof SeedConflictError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
