import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findAiAction } from '../../src/actions/catalogue.ts';
import { loadUnitPrimitiveBundles } from '../../src/actions/cloud-connector.ts';
import { createDatabaseAccessDirectory } from '../../src/auth/access-directory.ts';
import { authorizeAiAction, refusalMessages } from '../../src/auth/ai-authorization.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { type CachedFeatureFlags, createFeatureFlags } from '../../src/feature-flags/create-feature-flags.ts';
import { changeFeatureFlag, type FlagChange } from '../../src/feature-flags/flag-admin.ts';
import { parseGlobalId } from '../../src/gid.ts';
import { createLogger } from '../../src/logger.ts';
import { createRedis, type Redis } from '../../src/redis.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let flags: CachedFeatureFlags;
let redis: Redis;

const users = { root: 1, owner: 2, developer: 3, guest: 4, outsider: 5, premium: 6 } as const;
const m = refusalMessages;

type FlagState =
  | 'default'
  | 'global-off'
  | 'chat-off'
  | 'explain-off'
  | 'summarize-only-group-5'
  | 'summarize-only-developer';

const flagStates: Record<FlagState, [string, FlagChange][]> = {
  default: [],
  'global-off': [['ai_global_switch', { kind: 'disable' }]],
  'chat-off': [['ai_duo_chat_switch', { kind: 'disable' }]],
  'explain-off': [['explain_code', { kind: 'disable' }]],
  'summarize-only-group-5': [
    ['summarize_comments', { kind: 'disable' }],
    ['summarize_comments', { kind: 'enable-actor', actorType: 'Group', actorId: 5 }],
  ],
  'summarize-only-developer': [
    ['summarize_comments', { kind: 'disable' }],
    ['summarize_comments', { kind: 'enable-actor', actorType: 'User', actorId: 3 }],
  ],
};

// [user, action, resource, flag state, expected refusal (null = allowed)]
const table: [keyof typeof users, string, string | null, FlagState, string | null][] = [
  // Chat: a Duo seat anywhere; the chat switch; resources must be readable.
  ['developer', 'chat', null, 'default', null],
  ['owner', 'chat', null, 'default', null],
  ['guest', 'chat', null, 'default', null],
  ['outsider', 'chat', null, 'default', m.noChatAccess],
  ['premium', 'chat', null, 'default', m.noChatAccess],
  ['root', 'chat', null, 'default', m.noChatAccess],
  ['developer', 'chat', null, 'chat-off', m.chatSwitch],
  ['developer', 'chat', null, 'global-off', null],
  ['developer', 'chat', 'gid://gitlab/Issue/1', 'default', null],
  ['developer', 'chat', 'gid://gitlab/Issue/2', 'default', null],
  ['guest', 'chat', 'gid://gitlab/Issue/2', 'default', m.resourceNotAvailable],
  ['outsider', 'chat', 'gid://gitlab/Issue/1', 'default', m.resourceNotAvailable],
  ['developer', 'chat', 'gid://gitlab/Issue/7', 'default', m.duoFeaturesDisabled],
  ['developer', 'chat', 'gid://gitlab/Issue/6', 'default', null],
  ['premium', 'chat', 'gid://gitlab/Issue/4', 'default', m.noChatAccess],
  ['developer', 'chat', 'gid://gitlab/Issue/4', 'default', m.resourceNotAvailable],
  ['developer', 'chat', 'gid://gitlab/MergeRequest/1', 'default', null],
  ['guest', 'chat', 'gid://gitlab/MergeRequest/1', 'default', m.resourceNotAvailable],
  ['developer', 'chat', 'gid://gitlab/Epic/1', 'default', null],
  ['outsider', 'chat', 'gid://gitlab/Epic/1', 'default', m.resourceNotAvailable],
  // summarizeComments (beta, Duo Enterprise): stage check, licence, flags.
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/1', 'default', null],
  ['owner', 'summarizeComments', 'gid://gitlab/Issue/1', 'default', null],
  ['guest', 'summarizeComments', 'gid://gitlab/Issue/1', 'default', null],
  ['guest', 'summarizeComments', 'gid://gitlab/Issue/2', 'default', m.resourceNotAvailable],
  ['outsider', 'summarizeComments', 'gid://gitlab/Issue/1', 'default', m.resourceNotAvailable],
  ['outsider', 'summarizeComments', 'gid://gitlab/Issue/5', 'default', m.notPermitted],
  ['owner', 'summarizeComments', 'gid://gitlab/Issue/5', 'default', m.notPermitted],
  ['premium', 'summarizeComments', 'gid://gitlab/Issue/4', 'default', m.notPermitted],
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/6', 'default', m.notPermitted],
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/7', 'default', m.duoFeaturesDisabled],
  ['root', 'summarizeComments', 'gid://gitlab/Issue/1', 'default', m.notPermitted],
  ['developer', 'summarizeComments', 'gid://gitlab/Epic/1', 'default', null],
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/1', 'global-off', m.globalSwitch],
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/1', 'chat-off', null],
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/1', 'summarize-only-group-5', m.featureFlag],
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/6', 'summarize-only-group-5', m.notPermitted],
  ['developer', 'summarizeComments', 'gid://gitlab/Issue/1', 'summarize-only-developer', null],
  ['owner', 'summarizeComments', 'gid://gitlab/Issue/1', 'summarize-only-developer', m.featureFlag],
  // explainCode (experimental) on projects.
  ['developer', 'explainCode', 'gid://gitlab/Project/1', 'default', null],
  ['guest', 'explainCode', 'gid://gitlab/Project/1', 'default', null],
  ['outsider', 'explainCode', 'gid://gitlab/Project/1', 'default', m.resourceNotAvailable],
  ['developer', 'explainCode', 'gid://gitlab/Project/5', 'default', m.notPermitted],
  ['developer', 'explainCode', 'gid://gitlab/Project/2', 'default', m.duoFeaturesDisabled],
  ['premium', 'explainCode', 'gid://gitlab/Project/3', 'default', m.notPermitted],
  ['developer', 'explainCode', 'gid://gitlab/Project/1', 'explain-off', m.featureFlag],
  ['developer', 'explainCode', 'gid://gitlab/Project/1', 'global-off', m.globalSwitch],
  ['outsider', 'explainCode', 'gid://gitlab/Project/4', 'default', m.notPermitted],
];

let appliedState: FlagState = 'default';
async function applyFlagState(state: FlagState) {
  if (state === appliedState) return;
  for (const name of ['ai_global_switch', 'ai_duo_chat_switch', 'explain_code', 'summarize_comments']) {
    await changeFeatureFlag(database.db, redis, namespace.prefix, name, { kind: 'remove' });
  }
  // The seeded switches are rows that are on; put them back before applying the state.
  await changeFeatureFlag(database.db, redis, namespace.prefix, 'ai_global_switch', { kind: 'enable' });
  await changeFeatureFlag(database.db, redis, namespace.prefix, 'ai_duo_chat_switch', { kind: 'enable' });
  for (const [name, change] of flagStates[state])
    await changeFeatureFlag(database.db, redis, namespace.prefix, name, change);
  await flags.reload();
  appliedState = state;
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  redis = createRedis(testRedisUrl, 'blocking', 'test');
  flags = createFeatureFlags({
    db: database.db,
    redisUrl: testRedisUrl,
    prefix: namespace.prefix,
    logger: createLogger({ level: 'silent', name: 'test' }),
  });
}, 60_000);

afterAll(async () => {
  await flags.close();
  redis.disconnect();
  await database.close();
  await namespace.cleanup();
});

describe('the aiAction authorization chain, on the seeded world', () => {
  it('has at least 40 rows covering every rule', () => {
    expect(table.length).toBeGreaterThanOrEqual(40);
    const refusals = new Set(table.map((row) => row[4]));
    for (const message of Object.values(refusalMessages)) expect(refusals).toContain(message);
    expect(refusals).toContain(null);
  });

  // Sorted by flag state so each state is applied once.
  const rows = [...table].sort((a, b) => a[3].localeCompare(b[3]));
  it.each(rows)('%s → %s on %s with flags %s', async (userName, actionName, resourceGid, flagState, expected) => {
    await applyFlagState(flagState);
    const directory = createDatabaseAccessDirectory(database.db);
    const action = findAiAction(actionName);
    if (!action) throw new Error(`unknown action ${actionName}`);
    const resource = resourceGid ? await directory.resource(parseGlobalId(resourceGid)) : null;
    if (resourceGid) expect(resource).toBeDefined();
    const [user] = await database.db.query.users.findMany({ where: (table, { eq }) => eq(table.id, users[userName]) });
    if (!user) throw new Error('fixture missing');
    const refusal = await authorizeAiAction(
      { user: { id: user.id, username: user.username, admin: user.admin }, action, resource: resource ?? null },
      { flags, directory, bundles: loadUnitPrimitiveBundles() },
    );
    expect(refusal).toBe(expected);
  });
});
