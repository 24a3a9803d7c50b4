// `npm run bench:authz`: the authorization of one aiAction on warm caches — resource lookup plus the
// whole rule chain (switches, per-action flag, read access, Duo enabled, licence and seat, stage check) —
// p50/p99 per call, and the number of Postgres queries on the warm path (target 0).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { seedDevWorld } from '../seeds/dev-world.ts';
import { findAiAction } from '../src/actions/catalogue.ts';
import { loadUnitPrimitiveBundles } from '../src/actions/cloud-connector.ts';
import { createCachedAccessDirectory } from '../src/auth/access-directory.ts';
import { authorizeAiAction } from '../src/auth/ai-authorization.ts';
import { createDatabase } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import { createFeatureFlags } from '../src/feature-flags/create-feature-flags.ts';
import { parseGlobalId } from '../src/gid.ts';
import { createLogger } from '../src/logger.ts';

let queries = 0;
const database = await createDatabase({ dataDir: 'memory://', onQuery: () => (queries += 1) });
await runMigrations(database);
await seedDevWorld(database.db);
const flags = createFeatureFlags({
  db: database.db,
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: `bench-authz-${process.pid}:`,
  logger: createLogger({ level: 'silent', name: 'bench' }),
});
const directory = createCachedAccessDirectory(database.db, { ttlMs: 600_000 });
const dependencies = { flags, directory, bundles: loadUnitPrimitiveBundles() };
const user = { id: 3, username: 'developer', admin: false };

const scenarios = [
  {
    label: 'summarizeComments on an issue (beta: every rule runs)',
    action: 'summarizeComments',
    resource: 'gid://gitlab/Issue/1',
  },
  { label: 'explainCode on a project (experimental)', action: 'explainCode', resource: 'gid://gitlab/Project/1' },
  { label: 'chat about a merge request', action: 'chat', resource: 'gid://gitlab/MergeRequest/1' },
  { label: 'chat without a resource', action: 'chat', resource: null },
  {
    label: 'refused: confidential issue for a guest',
    action: 'summarizeComments',
    resource: 'gid://gitlab/Issue/2',
    userId: 4,
  },
];

const iterations = 20_000;
const rows: string[] = [];
for (const scenario of scenarios) {
  const action = findAiAction(scenario.action);
  if (!action) throw new Error(`unknown action ${scenario.action}`);
  const actor = scenario.userId ? { ...user, id: scenario.userId, username: 'guest' } : user;
  const authorize = async () => {
    const resource = scenario.resource ? ((await directory.resource(parseGlobalId(scenario.resource))) ?? null) : null;
    return authorizeAiAction({ user: actor, action, resource }, dependencies);
  };
  const warmResult = await authorize(); // warms every cache this scenario touches
  for (let index = 0; index < 1_000; index += 1) await authorize();
  const queriesBefore = queries;
  const samples = new Float64Array(iterations);
  for (let index = 0; index < iterations; index += 1) {
    const startedAt = performance.now();
    await authorize();
    samples[index] = performance.now() - startedAt;
  }
  const warmQueries = queries - queriesBefore;
  samples.sort();
  const p50 = samples[Math.floor(iterations * 0.5)] as number;
  const p99 = samples[Math.floor(iterations * 0.99)] as number;
  rows.push(
    `| ${scenario.label} | ${warmResult === null ? 'allowed' : 'refused'} | ${(p50 * 1_000).toFixed(1)} µs | ${(p99 * 1_000).toFixed(1)} µs | ${warmQueries} |`,
  );
  process.stderr.write(
    `${scenario.label}: p50 ${(p50 * 1_000).toFixed(1)} µs, p99 ${(p99 * 1_000).toFixed(1)} µs, queries ${warmQueries}\n`,
  );
}
const lines = [
  '# bench:authz — authorization of one aiAction on warm caches',
  '',
  `Measured ${new Date().toISOString()}, ${cpus().length} cores, load average ${loadavg()[0]?.toFixed(2)}, Node ${process.version}; ${iterations} calls per row after warm-up.`,
  'Each call: resource lookup + the full rule chain. Queries: Postgres statements sent during the timed calls.',
  'Targets: p50 ≤ 0.5 ms, p99 ≤ 2 ms, 0 queries.',
  '',
  '| scenario | outcome | p50 | p99 | queries on the warm path |',
  '|---|---|---:|---:|---:|',
  ...rows,
  '',
];
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/authz.md', lines.join('\n'));
process.stdout.write(`${lines.join('\n')}\n`);
await flags.close();
await database.close();
process.exit(0);
