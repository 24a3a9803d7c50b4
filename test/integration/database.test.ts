import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { count, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken, seedDevWorld } from '../../seeds/dev-world.ts';
import { createDatabaseAccessDirectory } from '../../src/auth/access-directory.ts';
import { canReadResource } from '../../src/auth/authorize.ts';
import { loadResource } from '../../src/auth/resources.ts';
import { authenticateToken, digestToken } from '../../src/auth/tokens.ts';
import { createDatabase, type DatabaseHandle, DatabaseLockedError } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import * as schema from '../../src/db/schema/index.ts';
import { parseGlobalId } from '../../src/gid.ts';
import { createSeededEmbeddedDatabase, type ServedDatabase, serveSeededDatabase } from '../helpers/test-database.ts';

interface Driver {
  name: string;
  open(): Promise<{ database: DatabaseHandle; close(): Promise<void> }>;
}

const drivers: Driver[] = [
  {
    name: 'embedded PGlite',
    async open() {
      const database = await createSeededEmbeddedDatabase();
      return { database, close: () => database.close() };
    },
  },
  {
    name: 'DATABASE_URL (node-postgres against PGlite served over the wire)',
    async open() {
      const served: ServedDatabase = await serveSeededDatabase();
      const database = await createDatabase({ databaseUrl: served.url, dataDir: 'unused', poolSize: 4 });
      return {
        database,
        async close() {
          await database.close();
          await served.stop();
        },
      };
    },
  },
];

// user id, resource, may read
const readMatrix: [string, number, string, boolean][] = [
  ['owner', 2, 'gid://gitlab/Issue/1', true],
  ['developer', 3, 'gid://gitlab/Issue/1', true],
  ['guest', 4, 'gid://gitlab/Issue/1', true],
  ['outsider', 5, 'gid://gitlab/Issue/1', false],
  ['admin', 1, 'gid://gitlab/Issue/1', true],
  ['guest on confidential', 4, 'gid://gitlab/Issue/2', false],
  ['developer on confidential', 3, 'gid://gitlab/Issue/2', true],
  ['outsider on confidential', 5, 'gid://gitlab/Issue/2', false],
  ['subgroup project via parent membership', 3, 'gid://gitlab/Project/2', true],
  ['outsider on public project issue', 5, 'gid://gitlab/Issue/5', true],
  ['premium member on ultimate issue', 6, 'gid://gitlab/Issue/1', false],
  ['guest on private merge request', 4, 'gid://gitlab/MergeRequest/1', false],
  ['developer on merge request', 3, 'gid://gitlab/MergeRequest/1', true],
  ['guest on CI job of a private project', 4, 'gid://gitlab/Ci::Build/1', false],
  ['developer on CI job', 3, 'gid://gitlab/Ci::Build/1', true],
  ['guest on vulnerability', 4, 'gid://gitlab/Vulnerability/1', false],
  ['developer on vulnerability', 3, 'gid://gitlab/Vulnerability/1', true],
  ['guest on epic', 4, 'gid://gitlab/Epic/1', true],
  ['outsider on epic of a private group', 5, 'gid://gitlab/Epic/1', false],
  ['self', 3, 'gid://gitlab/User/3', true],
  ['another user', 3, 'gid://gitlab/User/2', false],
  ['admin on another user', 1, 'gid://gitlab/User/2', false],
];

describe.each(drivers)('database through $name', (driver) => {
  let database: DatabaseHandle;
  let close: () => Promise<void>;

  beforeAll(async () => {
    ({ database, close } = await driver.open());
  }, 60_000);
  afterAll(async () => {
    await close();
  });

  it('has pgvector and applies migrations idempotently', async () => {
    const before = (await database.db.execute(
      sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
    )) as unknown as {
      rows: { applied: number }[];
    };
    await runMigrations(database);
    const after = (await database.db.execute(
      sql`select count(*)::int as applied from drizzle.__drizzle_migrations`,
    )) as unknown as {
      rows: { applied: number }[];
    };
    expect(after.rows[0]?.applied).toBe(before.rows[0]?.applied);
    expect(before.rows[0]?.applied).toBeGreaterThanOrEqual(2);
    const vector = (await database.db.execute(
      sql`select '[1,0]'::vector <=> '[0,1]'::vector as distance`,
    )) as unknown as {
      rows: { distance: number }[];
    };
    expect(Number(vector.rows[0]?.distance)).toBeCloseTo(1);
  });

  it('seeds the same world again without duplicating anything', async () => {
    const counts = async () =>
      Promise.all(
        [schema.users, schema.issues, schema.notes, schema.members, schema.personalAccessTokens].map(async (table) => {
          const [row] = await database.db.select({ rows: count() }).from(table);
          return row?.rows;
        }),
      );
    const before = await counts();
    const manifest = await seedDevWorld(database.db);
    expect(await counts()).toEqual(before);
    expect(manifest.resources.confidentialIssue).toBe('gid://gitlab/Issue/2');
    expect(manifest.users.find((user) => user.username === 'developer')?.token).toBe('glpat-dev-developer');
  });

  it('stores only token digests, never tokens', async () => {
    const rows = await database.db
      .select({ digest: schema.personalAccessTokens.tokenDigest })
      .from(schema.personalAccessTokens);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain('glpat-');
    expect(rows.map((row) => row.digest)).toContain(digestToken(devToken('developer')));
  });

  it('authenticates tokens and refuses expired, revoked and blocked ones', async () => {
    const authentication = await authenticateToken(database.db, devToken('developer'));
    expect(authentication.user).toEqual({ id: 3, username: 'developer', admin: false });
    expect(authentication.scopes).toEqual(['api']);
    await expect(authenticateToken(database.db, devToken('expired'))).rejects.toThrow('Token has expired.');
    await expect(authenticateToken(database.db, 'glpat-nope')).rejects.toThrow('Invalid token');
    await database.db
      .update(schema.personalAccessTokens)
      .set({ revoked: true })
      .where(eq(schema.personalAccessTokens.id, 102));
    await expect(authenticateToken(database.db, 'glpat-dev-developer-ai')).rejects.toThrow('Token was revoked');
    await database.db
      .update(schema.personalAccessTokens)
      .set({ revoked: false })
      .where(eq(schema.personalAccessTokens.id, 102));
    await database.db.update(schema.users).set({ state: 'blocked' }).where(eq(schema.users.id, 4));
    await expect(authenticateToken(database.db, devToken('guest'))).rejects.toThrow('blocked');
    await database.db.update(schema.users).set({ state: 'active' }).where(eq(schema.users.id, 4));
  });

  it.each(readMatrix)('read access: %s', async (_label, userId, gid, expected) => {
    const resource = await loadResource(database.db, parseGlobalId(gid));
    expect(resource).toBeDefined();
    const [user] = await database.db.select().from(schema.users).where(eq(schema.users.id, userId));
    if (!resource || !user) throw new Error('fixture missing');
    expect(
      await canReadResource(
        createDatabaseAccessDirectory(database.db),
        { id: user.id, username: user.username, admin: user.admin },
        resource,
      ),
    ).toBe(expected);
  });

  it('returns nothing for an id that does not exist', async () => {
    expect(await loadResource(database.db, parseGlobalId('gid://gitlab/Issue/424242'))).toBeUndefined();
  });
});

describe('the embedded database directory', () => {
  let directory: string;
  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), 'duo-pglite-'));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it('is opened by one process only: a second opener stops with a clear message', async () => {
    const first = await createDatabase({ dataDir: directory });
    try {
      const second = createDatabase({ dataDir: directory });
      await expect(second).rejects.toBeInstanceOf(DatabaseLockedError);
      await expect(second).rejects.toThrow(/already open in another process.*npm run db:serve/);
    } finally {
      await first.close();
    }
    // Released on close: it opens again.
    const again = await createDatabase({ dataDir: directory });
    await again.close();
  }, 60_000);
});
