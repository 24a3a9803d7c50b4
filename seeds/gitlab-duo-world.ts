import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getTableColumns, inArray, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { parse } from 'yaml';
import { z } from 'zod';
import { digestToken } from '../src/auth/tokens.ts';
import type { Database } from '../src/db/client.ts';
import * as schema from '../src/db/schema/index.ts';
import { accessLevels } from '../src/db/schema/members.ts';
import { toGlobalId } from '../src/gid.ts';
import { lastReservedId, moveIdentitySequencesPast } from './identity-sequences.ts';

/**
 * The evaluation world (GitLab's `FILTER=gitlab_duo` seed): a `gitlab-duo` group whose records have the same
 * ids and iids on every run and every machine, so an external dataset can name `gid://gitlab/Issue/1003`.
 * The content lives in `gitlab-duo-world.yml`; this file turns it into rows and inserts them.
 */
export const gitlabDuoWorldFile = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'gitlab-duo-world.yml');

/** Every id of the evaluation world lies in this range, apart from the development world's low ids. */
export const evaluationIdRange = { first: 1000, last: lastReservedId } as const;

const worldId = z.number().int().min(evaluationIdRange.first).max(evaluationIdRange.last);
const timestamp = z.iso.datetime();
const noteSchema = z.object({
  id: worldId,
  author: z.string(),
  at: timestamp,
  text: z.string().min(1),
  system: z.boolean().default(false),
});
const factsSchema = z.record(z.string(), z.string().min(1));
const worldSchema = z.object({
  users: z.array(
    z.object({
      id: worldId,
      username: z.string(),
      name: z.string(),
      access: z.enum(['guest', 'reporter', 'developer', 'maintainer', 'owner']),
      token: z.string().startsWith('glpat-').optional(),
    }),
  ),
  group: z.object({ id: worldId, name: z.string(), path: z.string(), seats: z.number().int().positive() }),
  projects: z.array(z.object({ id: worldId, name: z.string(), path: z.string() })),
  issues: z.array(
    z.object({
      id: worldId,
      project: z.string(),
      iid: z.number().int().positive(),
      title: z.string(),
      author: z.string(),
      assignee: z.string().optional(),
      state: z.enum(['opened', 'closed']),
      created_at: timestamp,
      description: z.string(),
      notes: z.array(noteSchema),
      facts: factsSchema,
    }),
  ),
  epics: z.array(
    z.object({
      id: worldId,
      iid: z.number().int().positive(),
      title: z.string(),
      author: z.string(),
      state: z.enum(['opened', 'closed']),
      created_at: timestamp,
      description: z.string(),
      notes: z.array(noteSchema),
      facts: factsSchema,
    }),
  ),
  merge_requests: z.array(
    z.object({
      id: worldId,
      project: z.string(),
      iid: z.number().int().positive(),
      title: z.string(),
      author: z.string(),
      state: z.enum(['opened', 'closed', 'merged']),
      source_branch: z.string(),
      target_branch: z.string(),
      created_at: timestamp,
      description: z.string(),
      commits: z.array(z.object({ sha: z.string().regex(/^[0-9a-f]{40}$/), title: z.string() })),
      diff: z.string(),
      notes: z.array(noteSchema),
      facts: factsSchema,
    }),
  ),
  builds: z.array(
    z.object({
      id: worldId,
      project: z.string(),
      name: z.string(),
      stage: z.string(),
      status: z.enum(['success', 'failed', 'canceled']),
      ref: z.string(),
      user: z.string(),
      created_at: timestamp,
      log: z.string(),
      facts: factsSchema,
    }),
  ),
});

export type GitlabDuoWorld = z.infer<typeof worldSchema>;
type WorldNote = z.infer<typeof noteSchema>;

/** Reads and validates the world's content (ids in range, known users and projects). */
export function loadGitlabDuoWorld(file: string = gitlabDuoWorldFile): GitlabDuoWorld {
  const world = worldSchema.parse(parse(readFileSync(file, 'utf8')));
  const usernames = new Set(world.users.map((user) => user.username));
  const projectPaths = new Set(world.projects.map((project) => project.path));
  const notes = [...world.issues, ...world.epics, ...world.merge_requests].flatMap((record) => record.notes);
  const people = [
    ...[...world.issues, ...world.epics, ...world.merge_requests].map((record) => record.author),
    ...world.issues.flatMap((issue) => (issue.assignee ? [issue.assignee] : [])),
    ...world.builds.map((build) => build.user),
    ...notes.map((note) => note.author),
  ];
  for (const username of people) {
    if (!usernames.has(username)) throw new Error(`${file}: unknown user ${username}`);
  }
  for (const record of [...world.issues, ...world.merge_requests, ...world.builds]) {
    if (!projectPaths.has(record.project)) throw new Error(`${file}: unknown project ${record.project}`);
  }
  const noteIds = notes.map((note) => note.id);
  if (new Set(noteIds).size !== noteIds.length) throw new Error(`${file}: two notes share an id`);
  return world;
}

/** Every row of the world, table by table, in insertion order (parents first). */
export function gitlabDuoRows(world: GitlabDuoWorld) {
  const userId = (username: string) => world.users.find((user) => user.username === username)?.id as number;
  const projectId = (fullPath: string) => world.projects.find((project) => project.path === fullPath)?.id as number;
  const since = new Date('2025-11-01T00:00:00Z');
  const farFuture = '2099-01-01';
  const notesOf = (noteableType: 'Issue' | 'Epic' | 'MergeRequest', noteableId: number, notes: WorldNote[]) =>
    notes.map((note) => ({
      id: note.id,
      noteableType,
      noteableId,
      authorId: userId(note.author),
      note: note.text.trimEnd(),
      system: note.system,
      internal: false,
      createdAt: new Date(note.at),
    }));
  return {
    users: world.users.map((user) => ({
      id: user.id,
      username: user.username,
      name: user.name,
      email: `${user.username}@gitlab-duo.example.com`,
      admin: false,
      state: 'active' as const,
      createdAt: since,
    })),
    personalAccessTokens: world.users.flatMap((user) =>
      user.token
        ? [
            {
              id: user.id,
              userId: user.id,
              name: 'evaluation',
              tokenDigest: digestToken(user.token),
              scopes: ['api'],
              expiresAt: farFuture,
              revoked: false,
              createdAt: since,
            },
          ]
        : [],
    ),
    groups: [
      {
        id: world.group.id,
        parentId: null,
        name: world.group.name,
        fullPath: world.group.path,
        visibility: 'private' as const,
        plan: 'ultimate' as const,
        experimentFeaturesEnabled: true,
        duoFeaturesEnabled: true,
        thirdPartyAiFeaturesEnabled: true,
      },
    ],
    groupAddOns: [
      {
        id: world.group.id,
        groupId: world.group.id,
        addOn: 'duo_enterprise' as const,
        seats: world.group.seats,
        expiresOn: farFuture,
      },
    ],
    addOnSeatAssignments: world.users.map((user) => ({ groupAddOnId: world.group.id, userId: user.id })),
    projects: world.projects.map((project) => ({
      id: project.id,
      groupId: world.group.id,
      name: project.name,
      fullPath: project.path,
      visibility: 'private' as const,
      duoFeaturesEnabled: true,
    })),
    members: world.users.map((user) => ({
      id: user.id,
      userId: user.id,
      sourceType: 'Group' as const,
      sourceId: world.group.id,
      accessLevel: accessLevels[user.access],
    })),
    issues: world.issues.map((issue) => ({
      id: issue.id,
      projectId: projectId(issue.project),
      iid: issue.iid,
      title: issue.title,
      description: issue.description.trimEnd(),
      confidential: false,
      state: issue.state,
      authorId: userId(issue.author),
      assigneeId: issue.assignee ? userId(issue.assignee) : null,
      createdAt: new Date(issue.created_at),
    })),
    epics: world.epics.map((epic) => ({
      id: epic.id,
      groupId: world.group.id,
      iid: epic.iid,
      title: epic.title,
      description: epic.description.trimEnd(),
      confidential: false,
      state: epic.state,
      authorId: userId(epic.author),
      createdAt: new Date(epic.created_at),
    })),
    mergeRequests: world.merge_requests.map((mergeRequest) => ({
      id: mergeRequest.id,
      projectId: projectId(mergeRequest.project),
      iid: mergeRequest.iid,
      title: mergeRequest.title,
      description: mergeRequest.description.trimEnd(),
      sourceBranch: mergeRequest.source_branch,
      targetBranch: mergeRequest.target_branch,
      state: mergeRequest.state,
      authorId: userId(mergeRequest.author),
      diff: mergeRequest.diff.trimEnd(),
      commits: mergeRequest.commits.map((commit) => ({ sha: commit.sha, title: commit.title, message: commit.title })),
      createdAt: new Date(mergeRequest.created_at),
    })),
    ciBuilds: world.builds.map((build) => ({
      id: build.id,
      projectId: projectId(build.project),
      name: build.name,
      stage: build.stage,
      status: build.status,
      ref: build.ref,
      userId: userId(build.user),
      log: build.log.trimEnd(),
      createdAt: new Date(build.created_at),
    })),
    notes: [
      ...world.issues.flatMap((issue) => notesOf('Issue', issue.id, issue.notes)),
      ...world.epics.flatMap((epic) => notesOf('Epic', epic.id, epic.notes)),
      ...world.merge_requests.flatMap((mergeRequest) => notesOf('MergeRequest', mergeRequest.id, mergeRequest.notes)),
    ],
  };
}

type WorldRows = ReturnType<typeof gitlabDuoRows>;

/** The tables seeded with explicit ids, in insertion order, with their SQL names for the sequence bump. */
const tablesWithIds = [
  ['users', schema.users, 'users'],
  ['personalAccessTokens', schema.personalAccessTokens, 'personal_access_tokens'],
  ['groups', schema.groups, 'groups'],
  ['groupAddOns', schema.groupAddOns, 'group_add_ons'],
  ['projects', schema.projects, 'projects'],
  ['members', schema.members, 'members'],
  ['issues', schema.issues, 'issues'],
  ['epics', schema.epics, 'epics'],
  ['mergeRequests', schema.mergeRequests, 'merge_requests'],
  ['ciBuilds', schema.ciBuilds, 'ci_builds'],
  ['notes', schema.notes, 'notes'],
] as const satisfies readonly (readonly [keyof WorldRows, PgTable, string])[];

/** A record of the world that could not be seeded because something else is already there. */
export interface SeedConflict {
  table: string;
  id: number;
  /** `different`: a row with this id exists with other values; `taken`: another row holds one of its unique keys. */
  kind: 'different' | 'taken';
  /** The columns that differ (for `different`). */
  fields: string[];
}

export class SeedConflictError extends Error {
  override name = 'SeedConflictError';
  constructor(readonly conflicts: SeedConflict[]) {
    super(
      `The evaluation world conflicts with ${conflicts.length} existing record(s); nothing was written:\n${conflicts
        .map((conflict) =>
          conflict.kind === 'different'
            ? `  ${conflict.table} ${conflict.id}: exists with a different ${conflict.fields.join(', ')}`
            : `  ${conflict.table} ${conflict.id}: another record holds one of its unique keys (name, path or iid)`,
        )
        .join('\n')}`,
    );
  }
}

export interface GitlabDuoSeedReport {
  /** Rows written by this run, per table. */
  inserted: Record<string, number>;
  /** Rows that were already there, identical. */
  unchanged: Record<string, number>;
  manifest: GitlabDuoManifest;
}

export interface GitlabDuoManifest {
  users: { username: string; gid: string; token?: string; access: string }[];
  /** GitLab references (`gitlab-duo/tanuki-shop#1`, `gitlab-duo&2`, `job 1000`) to global ids. */
  resources: Record<string, string>;
}

/** Dates and JSON compare by value; object keys in any order (jsonb reorders them). */
function canonical(value: unknown): unknown {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>)
        .sort(([left], [right]) => left.localeCompare(right))
        .map(([key, entry]) => [key, canonical(entry)]),
    );
  }
  return value ?? null;
}

function differingFields(expected: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  return Object.keys(expected).filter(
    (key) => JSON.stringify(canonical(expected[key])) !== JSON.stringify(canonical(actual[key])),
  );
}

/**
 * Inserts the evaluation world. Idempotent: rows already present and identical are left alone. All or
 * nothing: when any record of the world conflicts with an existing one (same id, other values; or a unique
 * name, path or iid held by another row) nothing is written and {@link SeedConflictError} lists them all,
 * so an existing record is never overwritten. Identity sequences end past the reserved id range.
 */
export async function seedGitlabDuoWorld(db: Database, world = loadGitlabDuoWorld()): Promise<GitlabDuoSeedReport> {
  if (process.env.NODE_ENV === 'production') {
    throw new Error('Refusing to seed the evaluation world when NODE_ENV=production: its users have known tokens.');
  }
  const rows = gitlabDuoRows(world);
  const inserted: Record<string, number> = {};
  const unchanged: Record<string, number> = {};
  await db.transaction(async (tx) => {
    const conflicts: SeedConflict[] = [];
    for (const [name, table, sqlName] of tablesWithIds) {
      const wanted: { id: number }[] = rows[name];
      const written = await tx
        .insert(table)
        .values(wanted as never)
        .onConflictDoNothing()
        .returning({ id: sql<number>`id` });
      const writtenIds = new Set(written.map((row) => row.id));
      inserted[sqlName] = writtenIds.size;
      const rest = wanted.filter((row) => !writtenIds.has(row.id));
      const idColumn = getTableColumns(table).id;
      const existing: Record<string, unknown>[] =
        rest.length === 0
          ? []
          : await tx
              .select()
              .from(table as PgTable)
              .where(
                inArray(
                  idColumn,
                  rest.map((row) => row.id),
                ),
              );
      const byId = new Map(existing.map((row) => [row.id as number, row]));
      unchanged[sqlName] = 0;
      for (const row of rest) {
        const found = byId.get(row.id);
        if (!found) {
          conflicts.push({ table: sqlName, id: row.id, kind: 'taken', fields: [] });
          continue;
        }
        const fields = differingFields(row as Record<string, unknown>, found);
        if (fields.length > 0) conflicts.push({ table: sqlName, id: row.id, kind: 'different', fields });
        else unchanged[sqlName] += 1;
      }
      // A row kept out by a unique key leaves its id unused: its children would fail their foreign keys.
      if (conflicts.some((conflict) => conflict.kind === 'taken')) break;
    }
    if (conflicts.length > 0) throw new SeedConflictError(conflicts);
    const seats = await tx
      .insert(schema.addOnSeatAssignments)
      .values(rows.addOnSeatAssignments)
      .onConflictDoNothing()
      .returning();
    inserted.add_on_seat_assignments = seats.length;
    unchanged.add_on_seat_assignments = rows.addOnSeatAssignments.length - seats.length;
    // Later ordinary inserts must not land in the reserved range.
    await moveIdentitySequencesPast(
      tx,
      tablesWithIds.map(([, , sqlName]) => sqlName),
      lastReservedId,
    );
  });
  return { inserted, unchanged, manifest: gitlabDuoManifest(world) };
}

export function gitlabDuoManifest(world: GitlabDuoWorld): GitlabDuoManifest {
  const resources: Record<string, string> = {};
  for (const issue of world.issues) resources[`${issue.project}#${issue.iid}`] = toGlobalId('Issue', issue.id);
  for (const epic of world.epics) resources[`${world.group.path}&${epic.iid}`] = toGlobalId('Epic', epic.id);
  for (const mergeRequest of world.merge_requests) {
    resources[`${mergeRequest.project}!${mergeRequest.iid}`] = toGlobalId('MergeRequest', mergeRequest.id);
  }
  for (const build of world.builds) resources[`job ${build.id}`] = toGlobalId('Ci::Build', build.id);
  return {
    users: world.users.map((user) => ({
      username: user.username,
      gid: toGlobalId('User', user.id),
      ...(user.token ? { token: user.token } : {}),
      access: user.access,
    })),
    resources,
  };
}

export function writeGitlabDuoManifest(dataDir: string, manifest: GitlabDuoManifest): string {
  mkdirSync(dataDir, { recursive: true });
  const file = path.resolve(dataDir, 'gitlab-duo-world.json');
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}
