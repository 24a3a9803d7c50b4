import { asc, count, eq } from 'drizzle-orm';
import { afterEach, describe, expect, it } from 'vitest';
import { seedDevWorld } from '../../seeds/dev-world.ts';
import { SeedConflictError, seedGitlabDuoWorld } from '../../seeds/gitlab-duo-world.ts';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { runMigrations } from '../../src/db/migrate.ts';
import { ciBuilds, epics, groups, issues, mergeRequests, notes, projects, users } from '../../src/db/schema/index.ts';

const opened: DatabaseHandle[] = [];

async function freshDatabase(): Promise<DatabaseHandle> {
  const database = await createDatabase({ dataDir: 'memory://' });
  await runMigrations(database);
  opened.push(database);
  return database;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((database) => database.close()));
});

/** Everything an external dataset may refer to: ids, iids, and what they point at. */
async function identities(database: DatabaseHandle) {
  const { db } = database;
  return {
    users: await db.select({ id: users.id, username: users.username }).from(users).orderBy(asc(users.id)),
    groups: await db.select({ id: groups.id, path: groups.fullPath }).from(groups).orderBy(asc(groups.id)),
    projects: await db.select({ id: projects.id, path: projects.fullPath }).from(projects).orderBy(asc(projects.id)),
    issues: await db
      .select({ id: issues.id, projectId: issues.projectId, iid: issues.iid, title: issues.title })
      .from(issues)
      .orderBy(asc(issues.id)),
    epics: await db.select({ id: epics.id, iid: epics.iid, title: epics.title }).from(epics).orderBy(asc(epics.id)),
    mergeRequests: await db
      .select({ id: mergeRequests.id, projectId: mergeRequests.projectId, iid: mergeRequests.iid })
      .from(mergeRequests)
      .orderBy(asc(mergeRequests.id)),
    builds: await db.select({ id: ciBuilds.id, name: ciBuilds.name }).from(ciBuilds).orderBy(asc(ciBuilds.id)),
    notes: await db.select({ id: notes.id, noteableId: notes.noteableId }).from(notes).orderBy(asc(notes.id)),
  };
}

// Each test migrates one or two fresh databases: seconds each on a busy two-core machine.
const slow = { timeout: 120_000 };

describe('npm run db:seed -- --filter=gitlab_duo', () => {
  it('yields identical ids and iids on two fresh databases, and a rerun changes nothing', slow, async () => {
    const first = await freshDatabase();
    const second = await freshDatabase();
    const firstReport = await seedGitlabDuoWorld(first.db);
    await seedGitlabDuoWorld(second.db);
    const seeded = await identities(first);
    expect(await identities(second)).toEqual(seeded);

    // The ids datasets name: fixed, in the reserved range.
    expect(seeded.groups).toEqual([{ id: 1000, path: 'gitlab-duo' }]);
    expect(seeded.issues).toHaveLength(10);
    expect(seeded.issues[3]).toEqual({
      id: 1003,
      projectId: 1000,
      iid: 4,
      title: 'Product search takes over 2 seconds for large catalogs',
    });
    expect(seeded.epics.map((epic) => [epic.id, epic.iid])).toEqual([
      [1000, 1],
      [1001, 2],
      [1002, 3],
    ]);
    expect(seeded.mergeRequests.map((mergeRequest) => mergeRequest.id)).toEqual([1000, 1001, 1002]);
    expect(seeded.builds.map((build) => build.id)).toEqual([1000, 1001, 1002]);
    expect(seeded.users[0]).toEqual({ id: 1000, username: 'duo-evaluator' });
    for (const rows of Object.values(seeded)) {
      for (const row of rows) expect(row.id).toBeGreaterThanOrEqual(1000);
    }
    expect(firstReport.manifest.resources['gitlab-duo/tanuki-shop#4']).toBe('gid://gitlab/Issue/1003');
    expect(firstReport.manifest.users[0]).toMatchObject({
      username: 'duo-evaluator',
      token: 'glpat-eval-duo-evaluator',
    });

    const rerun = await seedGitlabDuoWorld(first.db);
    expect(Object.values(rerun.inserted).every((written) => written === 0)).toBe(true);
    expect(rerun.unchanged).toEqual(firstReport.inserted);
    expect(await identities(first)).toEqual(seeded);
  });

  it(
    'sits beside the development world, in either order, and later inserts get ids past the reserved range',
    slow,
    async () => {
      const database = await freshDatabase();
      await seedDevWorld(database.db);
      const [early] = await database.db
        .insert(users)
        .values({ username: 'early', name: 'Early', email: 'early@example.com' })
        .returning({ id: users.id });
      expect(early?.id).toBe(2000);
      await seedGitlabDuoWorld(database.db);
      await seedDevWorld(database.db);
      const [inserted] = await database.db
        .insert(issues)
        .values({ projectId: 1000, iid: 99, title: 'Created later', authorId: 1000 })
        .returning({ id: issues.id });
      expect(inserted?.id).toBe(2000);
      const [row] = await database.db.select({ users: count() }).from(users);
      expect(row?.users).toBe(7 + 1 + 6);
    },
  );

  it('reports a conflicting record and overwrites nothing', slow, async () => {
    const database = await freshDatabase();
    await seedGitlabDuoWorld(database.db);
    await database.db.update(issues).set({ title: 'Edited by someone' }).where(eq(issues.id, 1003));
    await database.db.delete(notes).where(eq(notes.id, 1000));

    const error = await seedGitlabDuoWorld(database.db).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SeedConflictError);
    expect((error as SeedConflictError).conflicts).toEqual([
      { table: 'issues', id: 1003, kind: 'different', fields: ['title'] },
    ]);
    expect((error as Error).message).toContain('issues 1003: exists with a different title');
    const [issue] = await database.db.select({ title: issues.title }).from(issues).where(eq(issues.id, 1003));
    expect(issue?.title).toBe('Edited by someone');
    // All or nothing: the missing note was not put back either.
    expect(await database.db.select().from(notes).where(eq(notes.id, 1000))).toEqual([]);
  });

  it('reports a record holding one of its unique keys, and writes nothing on an unrelated database', slow, async () => {
    const database = await freshDatabase();
    // Another installation's user already has the evaluator's name under another id.
    await database.db
      .insert(users)
      .values({ id: 7, username: 'duo-evaluator', name: 'Someone', email: 'x@example.com' });

    const error = await seedGitlabDuoWorld(database.db).catch((caught: unknown) => caught);
    expect((error as SeedConflictError).conflicts).toEqual([{ table: 'users', id: 1000, kind: 'taken', fields: [] }]);
    const [row] = await database.db.select({ users: count() }).from(users);
    expect(row?.users).toBe(1);
    const [groupCount] = await database.db.select({ groups: count() }).from(groups);
    expect(groupCount?.groups).toBe(0);
  });
});
