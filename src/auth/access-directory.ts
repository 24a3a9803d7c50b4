import { and, eq, gt, inArray, isNull, or, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { Database } from '../db/client.ts';
import { type AiFeatureSetting, aiFeatureSettings } from '../db/schema/ai-feature-settings.ts';
import { addOnSeatAssignments, type Group, groupAddOns, groups } from '../db/schema/groups.ts';
import { members } from '../db/schema/members.ts';
import type { Project } from '../db/schema/projects.ts';
import { type GlobalId, toGlobalId } from '../gid.ts';
import { createRedis, type Redis } from '../redis.ts';
import { loadResource, type Resource } from './resources.ts';

/** An add-on seat a user holds: which add-on, bought by which root group. */
export interface Seat {
  addOn: 'duo_pro' | 'duo_enterprise';
  groupId: number;
}

/**
 * Everything authorization reads from the database. The cached directory answers repeated questions
 * from memory for `ttlMs`, so the warm path of an `aiAction` makes no query.
 */
export interface AccessDirectory {
  resource(globalId: GlobalId): Promise<Resource | undefined>;
  /** A group and its ancestors, nearest first (the root group last). */
  groupChain(groupId: number): Promise<Group[]>;
  /** Highest access level from the user's memberships of the group and its ancestors; 0 for none. */
  groupAccessLevel(userId: number, groupId: number): Promise<number>;
  /** Highest access level from project membership and group memberships; 0 for none. */
  projectAccessLevel(userId: number, project: Project): Promise<number>;
  /** The add-on seats the user holds, in unexpired add-ons. */
  seats(userId: number): Promise<Seat[]>;
  /** The root group's provider and model for a feature, when it set one. */
  featureSetting(groupId: number, feature: string): Promise<AiFeatureSetting | undefined>;
  /** Forgets everything cached (after a settings or membership change). */
  invalidate(): void;
  close?(): void;
}

export function accessInvalidationChannel(prefix: string): string {
  return `${prefix}access_directory:invalidate`;
}

async function groupChainFromDatabase(db: Database, groupId: number): Promise<Group[]> {
  // Both drivers return `{ rows }` for raw SQL.
  const result = (await db.execute(sql`
    with recursive ancestry(id, parent_id, depth) as (
      select id, parent_id, 0 from groups where id = ${groupId}
      union all
      select groups.id, groups.parent_id, ancestry.depth + 1 from groups join ancestry on groups.id = ancestry.parent_id
    )
    select id from ancestry order by depth`)) as unknown as { rows: { id: number }[] };
  const ids = result.rows.map((row) => Number(row.id));
  if (ids.length === 0) return [];
  const rows = await db.select().from(groups).where(inArray(groups.id, ids));
  return ids.map((id) => rows.find((row) => row.id === id)).filter((row): row is Group => row !== undefined);
}

/** Reads straight from the database on every call. */
export function createDatabaseAccessDirectory(db: Database): AccessDirectory {
  const directory: AccessDirectory = {
    resource: (globalId) => loadResource(db, globalId),
    groupChain: (groupId) => groupChainFromDatabase(db, groupId),
    async groupAccessLevel(userId, groupId) {
      const groupIds = (await directory.groupChain(groupId)).map((group) => group.id);
      if (groupIds.length === 0) return 0;
      const rows = await db
        .select({ accessLevel: members.accessLevel })
        .from(members)
        .where(and(eq(members.userId, userId), eq(members.sourceType, 'Group'), inArray(members.sourceId, groupIds)));
      return Math.max(0, ...rows.map((row) => row.accessLevel));
    },
    async projectAccessLevel(userId, project) {
      const [projectMember] = await db
        .select({ accessLevel: members.accessLevel })
        .from(members)
        .where(and(eq(members.userId, userId), eq(members.sourceType, 'Project'), eq(members.sourceId, project.id)))
        .limit(1);
      return Math.max(projectMember?.accessLevel ?? 0, await directory.groupAccessLevel(userId, project.groupId));
    },
    invalidate: () => undefined,
    async featureSetting(groupId, feature) {
      const [setting] = await db
        .select()
        .from(aiFeatureSettings)
        .where(and(eq(aiFeatureSettings.groupId, groupId), eq(aiFeatureSettings.feature, feature)))
        .limit(1);
      return setting;
    },
    async seats(userId) {
      const today = new Date().toISOString().slice(0, 10);
      return db
        .select({ addOn: groupAddOns.addOn, groupId: groupAddOns.groupId })
        .from(addOnSeatAssignments)
        .innerJoin(groupAddOns, eq(groupAddOns.id, addOnSeatAssignments.groupAddOnId))
        .where(
          and(
            eq(addOnSeatAssignments.userId, userId),
            or(isNull(groupAddOns.expiresOn), gt(groupAddOns.expiresOn, today)),
          ),
        );
    },
  };
  return directory;
}

/**
 * The database directory behind per-question LRU caches with a time to live: a membership, seat or
 * confidentiality change is seen within `ttlMs` (AUTH_CACHE_TTL_MS).
 */
export function createCachedAccessDirectory(
  db: Database,
  options: { ttlMs: number; max?: number; redisUrl?: string; prefix?: string },
): AccessDirectory {
  const source = createDatabaseAccessDirectory(db);
  if (options.ttlMs <= 0) return source;
  const cache = new LRUCache<string, { value: unknown }>({ max: options.max ?? 50_000, ttl: options.ttlMs });
  // A change made through this service (group settings) is announced on a channel: every process forgets.
  let subscriber: Redis | undefined;
  if (options.redisUrl) {
    subscriber = createRedis(options.redisUrl, 'blocking', 'access-directory:subscribe');
    subscriber.on('error', () => undefined);
    void subscriber.subscribe(accessInvalidationChannel(options.prefix ?? ''));
    subscriber.on('message', () => cache.clear());
  }
  function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(key);
    if (hit) return Promise.resolve(hit.value as T);
    return load().then((value) => {
      cache.set(key, { value });
      return value;
    });
  }
  const directory: AccessDirectory = {
    resource: (globalId) =>
      cached(`resource:${toGlobalId(globalId.type, globalId.id)}`, () => source.resource(globalId)),
    groupChain: (groupId) => cached(`chain:${groupId}`, () => source.groupChain(groupId)),
    groupAccessLevel: (userId, groupId) =>
      cached(`group-access:${userId}:${groupId}`, () => source.groupAccessLevel(userId, groupId)),
    projectAccessLevel: (userId, project) =>
      cached(`project-access:${userId}:${project.id}`, () => source.projectAccessLevel(userId, project)),
    seats: (userId) => cached(`seats:${userId}`, () => source.seats(userId)),
    featureSetting: (groupId, feature) =>
      cached(`feature-setting:${groupId}:${feature}`, () => source.featureSetting(groupId, feature)),
    invalidate: () => cache.clear(),
    close: () => subscriber?.disconnect(),
  };
  return directory;
}
