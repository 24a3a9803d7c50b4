import { createHash } from 'node:crypto';
import { Queue } from 'bullmq';
import { createClient as createWebSocketClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { devToken } from '../../seeds/dev-world.ts';
import { refusalMessages } from '../../src/auth/ai-authorization.ts';
import { digestToken } from '../../src/auth/tokens.ts';
import { threadNotFoundMessage } from '../../src/chat/chat-threads.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import {
  aiConversationMessages,
  aiConversationThreads,
  aiFeatureSettings,
  featureFlagGates,
  featureFlags,
  groups,
  personalAccessTokens,
} from '../../src/db/schema/index.ts';
import { resourceNotAvailableMessage } from '../../src/errors.ts';
import { changeFeatureFlag } from '../../src/feature-flags/flag-admin.ts';
import { channelFor, type SubscriptionArguments } from '../../src/pubsub.ts';
import { requestNotFoundMessage } from '../../src/schema/ai-cancel.ts';
import { aiActionQueueName, bullPrefix } from '../../src/workers/queues.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

/*
 * Every GraphQL root field and every REST route, asked by every kind of caller. Each cell of the table below says
 * what must happen; each refused cell also proves that nothing was enqueued or written (Redis keys under this
 * file's prefix, BullMQ included, and the tables a mutation can write), and each allowed cell proves the row can
 * pass at all. The table is printed when the file runs.
 */

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let runtime: TestRuntime;
let redis: Redis;
let queue: Queue;

// ---------------------------------------------------------------------------------------------------------------
// Identities

const revokedToken = 'glpat-dev-developer-revoked';
type Username = 'root' | 'owner' | 'developer' | 'guest' | 'outsider' | 'premium-dev' | 'expired';
const userIds: Record<Username, number> = {
  root: 1,
  owner: 2,
  developer: 3,
  guest: 4,
  outsider: 5,
  'premium-dev': 6,
  expired: 7,
};
const gidOf = (username: Username) => `gid://gitlab/User/${userIds[username]}`;

const identityNames = [
  'anonymous',
  'malformed header',
  'unknown token',
  'expired token',
  'revoked token',
  'read_api token',
  'guest',
  'non-member',
  'wrong user',
  'allowed user',
] as const;
type IdentityName = (typeof identityNames)[number];

interface Identity {
  name: IdentityName;
  /** The raw `Authorization` header (HTTP) or `connectionParams.authorization` (graphql-ws). */
  authorization?: string;
  /** Whose token it is, when it names a user. */
  user?: Username;
}

function identityFor(name: IdentityName, field: FieldSpec): Identity {
  switch (name) {
    case 'anonymous':
      return { name };
    case 'malformed header':
      return { name, authorization: `Token ${devToken('developer')}` };
    case 'unknown token':
      return { name, authorization: 'Bearer glpat-AAAAAAAAAAAAAAAAAAAAAAAAAA' };
    case 'expired token':
      return { name, authorization: `Bearer ${devToken('expired')}`, user: 'expired' };
    case 'revoked token':
      return { name, authorization: `Bearer ${revokedToken}`, user: 'developer' };
    case 'read_api token':
      // The developer's own read-only token: right user, wrong scope.
      return { name, authorization: 'Bearer glpat-dev-developer-read', user: 'developer' };
    case 'guest':
      return { name, authorization: `Bearer ${devToken('guest')}`, user: 'guest' };
    case 'non-member':
      return { name, authorization: `Bearer ${devToken('outsider')}`, user: 'outsider' };
    case 'wrong user':
      return { name, authorization: `Bearer ${devToken(field.wrongUser)}`, user: field.wrongUser };
    case 'allowed user':
      return { name, authorization: `Bearer ${devToken(field.allowedUser)}`, user: field.allowedUser };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Outcomes

type Outcome =
  /** Answered; `note` says what the caller may see, the field's `check` verifies it. */
  | { kind: 'allowed'; note: string }
  /** Refused: HTTP status and GraphQL error message, or the exact REST body. */
  | { kind: 'refused'; status: number; message?: string; body?: unknown }
  /** graphql-ws: the connection is refused (4403 Forbidden) before any subscription. */
  | { kind: 'closed'; code: number }
  /** A check that is missing today (reported): only "no 5xx, no crash" is asserted. */
  | { kind: 'gap'; note: string };

const allowed = (note = 'answered'): Outcome => ({ kind: 'allowed', note });
const refused = (status: number, message: string): Outcome => ({ kind: 'refused', status, message });
const refusedBody = (status: number, body: unknown): Outcome => ({ kind: 'refused', status, body });

/** What a request produced. */
interface Observed {
  status: number;
  body?: unknown;
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
  closeCode?: number;
  /** graphql-ws: the subscription is live (its Redis channel has a subscriber). */
  subscribed?: boolean;
}

interface CheckInput {
  observed: Observed;
  identity: Identity;
  before: StateSnapshot;
  after: StateSnapshot;
}

interface FieldSpec {
  /** Row label: `Query.aiMessages(threadId)`, `POST /v2/completions`, … */
  field: string;
  kind: 'query' | 'mutation' | 'subscription' | 'rest';
  allowedUser: Username;
  wrongUser: Username;
  expected: Record<IdentityName, Outcome>;
  run(identity: Identity): Promise<Observed>;
  /** Extra assertions for allowed cells. */
  check?(input: CheckInput): void | Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------------
// Transports

function headersOf(identity: Identity): Record<string, string> {
  return identity.authorization ? { authorization: identity.authorization } : {};
}

async function graphql(identity: Identity, query: string, variables: Record<string, unknown> = {}): Promise<Observed> {
  const response = await fetch(`${runtime.baseUrl}/api/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...headersOf(identity),
    },
    body: JSON.stringify({ query, variables }),
  });
  const text = await response.text();
  const body = JSON.parse(text) as Pick<Observed, 'data' | 'errors'>;
  expect(text, 'no stack trace or internal path leaks').not.toMatch(/\bat .+\.[jt]s:\d+|node_modules/);
  return { status: response.status, body, data: body.data ?? null, ...(body.errors ? { errors: body.errors } : {}) };
}

async function rest(identity: Identity, path: string, body: unknown): Promise<Observed> {
  const response = await fetch(`${runtime.baseUrl}${path}`, {
    method: path.startsWith('/-/') ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json', ...headersOf(identity) },
    ...(path.startsWith('/-/') ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // text/plain (health) or text/event-stream
  }
  return { status: response.status, body: parsed };
}

const subscriptionQuery = /* GraphQL */ `
  subscription ($userId: UserID, $resourceId: AiModelID, $requestId: ID) {
    aiCompletionResponse(userId: $userId, resourceId: $resourceId, requestId: $requestId) { requestId role content extras { status } }
  }
`;

/**
 * Subscribes over graphql-ws (the real client) and settles on the first of: an error, a message, or the
 * subscription's Redis channel getting a subscriber (a live subscription that has nothing to say yet).
 */
async function subscribe(
  identity: Identity,
  variables: Record<string, unknown>,
  channel?: SubscriptionArguments,
): Promise<Observed> {
  const client = createWebSocketClient({
    url: `${runtime.baseUrl.replace(/^http/, 'ws')}/api/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: identity.authorization ? { authorization: identity.authorization } : {},
    lazy: true,
    retryAttempts: 0,
  });
  let settled = false;
  try {
    return await new Promise<Observed>((resolve, reject) => {
      const settle = (observed: Observed) => {
        settled = true;
        resolve(observed);
      };
      const timer = setTimeout(() => reject(new Error('the subscription neither answered nor went live')), 10_000);
      client.subscribe(
        { query: subscriptionQuery, variables },
        {
          next: (result) => {
            clearTimeout(timer);
            settle({
              status: 0,
              data: (result.data as Record<string, unknown> | null | undefined) ?? null,
              ...(result.errors ? { errors: result.errors as Observed['errors'] } : {}),
            });
          },
          error: (error: unknown) => {
            clearTimeout(timer);
            if (Array.isArray(error)) settle({ status: 0, errors: error as Observed['errors'] });
            else settle({ status: 0, closeCode: (error as { code?: number }).code ?? -1 });
          },
          complete: () => {
            clearTimeout(timer);
            if (!settled) settle({ status: 0 });
          },
        },
      );
      if (channel) {
        void (async () => {
          const name = channelFor(namespace.prefix, channel);
          while (!settled) {
            const [, subscribers] = (await redis.pubsub('NUMSUB', name)) as [string, number];
            if (Number(subscribers) > 0) {
              clearTimeout(timer);
              settle({ status: 0, subscribed: true });
              return;
            }
            await new Promise((wait) => setTimeout(wait, 15));
          }
        })();
      }
    });
  } finally {
    await client.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// State: what a refused request must leave untouched

interface StateSnapshot {
  jobs: number;
  redis: Map<string, string>;
  tables: string;
}

async function snapshot(): Promise<StateSnapshot> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${namespace.prefix}*`, 'COUNT', 1_000);
    cursor = next;
    // The code-suggestions limiter's keys live 60 s: they could expire between two snapshots by themselves.
    keys.push(...batch.filter((key) => !key.includes('rate_limit:code_suggestions')));
  } while (cursor !== '0');
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.dumpBuffer(key);
  const dumps = (await pipeline.exec()) ?? [];
  const redisState = new Map<string, string>();
  keys.forEach((key, index) => {
    const value = dumps[index]?.[1] as Buffer | null | undefined;
    if (value) redisState.set(key, createHash('sha256').update(value).digest('hex'));
  });
  const db = database.db;
  const tables = await Promise.all([
    db.select().from(featureFlags),
    db.select().from(featureFlagGates),
    db.select().from(groups),
    db.select().from(aiFeatureSettings),
    db.select().from(aiConversationThreads),
    db.select().from(aiConversationMessages),
    db.select().from(personalAccessTokens),
  ]);
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
  return {
    jobs: Object.values(counts).reduce((total, count) => total + count, 0),
    redis: redisState,
    tables: createHash('sha256').update(JSON.stringify(tables)).digest('hex'),
  };
}

function changedKeys(before: StateSnapshot, after: StateSnapshot): string[] {
  return [...new Set([...before.redis.keys(), ...after.redis.keys()])].filter(
    (key) => before.redis.get(key) !== after.redis.get(key),
  );
}

function expectUnchanged(before: StateSnapshot, after: StateSnapshot): void {
  expect(after.jobs, 'jobs enqueued').toBe(before.jobs);
  expect(changedKeys(before, after), 'Redis keys written').toEqual([]);
  expect(after.tables, 'rows written').toBe(before.tables);
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures: each user's own requests, messages and threads

const fixtures = {
  /** developer's chat request on the Redis stream, still queued (aiCancel's target). */
  developerQueuedRequest: '',
  /** developer's chat request, cancelled: its final message is logged (resume's target). */
  developerFinishedRequest: '',
  /** The id of developer's question in the Redis stream (duoUserFeedback's target). */
  developerMessageId: '',
  /** developer's conversation thread. */
  developerThread: '',
  /** Requests by user, to see that nobody reads another's history. */
  requestOwners: new Map<string, Username>(),
};

async function as(username: Username, query: string, variables: Record<string, unknown> = {}) {
  const observed = await graphql(
    { name: 'allowed user', authorization: `Bearer ${devToken(username)}` },
    query,
    variables,
  );
  expect(observed.errors, `fixture for ${username}`).toBeUndefined();
  return observed.data as Record<string, Record<string, unknown>>;
}

const chatMutation = /* GraphQL */ `
  mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId threadId errors } }
`;

async function chatAs(
  username: Username,
  input: Record<string, unknown>,
): Promise<{ requestId: string; threadId: string | null }> {
  const data = await as(username, chatMutation, { input });
  const payload = data.aiAction as { requestId: string; threadId: string | null; errors: string[] };
  expect(payload.errors).toEqual([]);
  fixtures.requestOwners.set(payload.requestId, username);
  return payload;
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  redis = new Redis(testRedisUrl);
  // A revoked token, written as the seeds write tokens (only its digest is stored).
  await database.db.insert(personalAccessTokens).values({
    id: 900,
    userId: userIds.developer,
    name: 'revoked',
    tokenDigest: digestToken(revokedToken),
    scopes: ['api'],
    expiresAt: '2099-01-01',
    revoked: true,
  });
  // The experimentation API: on for the developer only (GitLab's per-user gate), and each provider's flag.
  const flag = (name: string, change: Parameters<typeof changeFeatureFlag>[4]) =>
    changeFeatureFlag(database.db, redis, namespace.prefix, name, change);
  await flag('ai_experimentation_api', { kind: 'enable-actor', actorType: 'User', actorId: userIds.developer });
  await flag('anthropic_experimentation', { kind: 'enable' });
  await flag('tofa_experimentation_main_flag', { kind: 'enable' });
  // The API alone: nothing consumes the queue, so every accepted request stays countable.
  runtime = await startTestRuntime({
    role: 'api',
    database,
    prefix: namespace.prefix,
    environment: { CODE_SUGGESTIONS_RATE_LIMIT: '100000' },
  });
  queue = new Queue(aiActionQueueName, { connection: new Redis(testRedisUrl), prefix: bullPrefix(namespace.prefix) });

  fixtures.developerQueuedRequest = (await chatAs('developer', { chat: { content: 'How do I rebase?' } })).requestId;
  const finished = await chatAs('developer', { chat: { content: 'Cancel me' } });
  fixtures.developerFinishedRequest = finished.requestId;
  const cancel = await as('developer', 'mutation ($id: ID!) { aiCancel(requestId: $id) { errors } }', {
    id: finished.requestId,
  });
  expect(cancel.aiCancel).toEqual({ errors: [] });
  const thread = await chatAs('developer', { chat: { content: 'A thread of mine' }, conversationType: 'DUO_CHAT' });
  fixtures.developerThread = thread.threadId ?? '';
  await chatAs('owner', { chat: { content: "The owner's own question" } });
  const messages = await as('developer', '{ aiMessages { nodes { id requestId role } } }');
  const nodes = (messages.aiMessages as { nodes: { id: string; requestId: string; role: string }[] }).nodes;
  fixtures.developerMessageId =
    nodes.find((node) => node.requestId === fixtures.developerQueuedRequest && node.role === 'USER')?.id ?? '';
  expect(fixtures.developerMessageId).not.toBe('');
  expect(fixtures.developerThread).toMatch(/^gid:\/\/gitlab\/Ai::Conversation::Thread\/\d+$/);
}, 60_000);

afterAll(async () => {
  await queue?.close();
  redis?.disconnect();
  await runtime?.close();
  await database?.close();
  await namespace.cleanup();
});

// ---------------------------------------------------------------------------------------------------------------
// The table

/** Every GraphQL field answers a bad token the same way: 401 from authentication, before any resolver. */
const graphqlBadTokens = {
  'malformed header': refused(401, 'Invalid authorization header'),
  'unknown token': refused(401, 'Invalid token'),
  'expired token': refused(401, 'Token has expired.'),
  'revoked token': refused(401, 'Token was revoked. You have to re-authorize from the user profile.'),
} satisfies Partial<Record<IdentityName, Outcome>>;

/** graphql-ws authenticates once, in connection_init: a bad token never gets a connection. */
const webSocketBadTokens = {
  'malformed header': { kind: 'closed', code: 4403 },
  'unknown token': { kind: 'closed', code: 4403 },
  'expired token': { kind: 'closed', code: 4403 },
  'revoked token': { kind: 'closed', code: 4403 },
} satisfies Partial<Record<IdentityName, Outcome>>;

const forbidden = refused(200, resourceNotAvailableMessage);

/** Administrators only: everyone else gets GitLab's "not available" message. */
function adminOnly(field: string, query: string): FieldSpec {
  return {
    field,
    kind: field.startsWith('Mutation') ? 'mutation' : 'query',
    allowedUser: 'root',
    wrongUser: 'owner',
    run: (identity) => graphql(identity, query),
    expected: {
      anonymous: forbidden,
      ...graphqlBadTokens,
      'read_api token': forbidden,
      guest: forbidden,
      'non-member': forbidden,
      'wrong user': forbidden,
      'allowed user': allowed('an administrator'),
    },
    check: ({ observed, before, after }) => {
      expect(Object.values(observed.data ?? {})[0]).not.toBeNull();
      if (field.startsWith('Mutation')) expect(after.tables, 'the flag is written').not.toBe(before.tables);
    },
  };
}

function nodesOf(observed: Observed): { requestId?: string; id?: string }[] {
  return (Object.values(observed.data ?? {})[0] as { nodes: { requestId?: string }[] }).nodes;
}

const ownerOnlyGroupSetting = (field: string, query: string, variables: Record<string, unknown>): FieldSpec => ({
  field,
  kind: 'mutation',
  allowedUser: 'owner',
  // A developer of the same group: a member, but not its owner.
  wrongUser: 'developer',
  run: (identity) => graphql(identity, query, variables),
  expected: {
    anonymous: forbidden,
    ...graphqlBadTokens,
    'read_api token': forbidden,
    guest: forbidden,
    'non-member': forbidden,
    'wrong user': forbidden,
    'allowed user': allowed('the group owner'),
  },
  check: ({ observed, before, after }) => {
    expect(Object.values(observed.data ?? {})[0]).not.toBeNull();
    expect(after.tables, 'the setting is written').not.toBe(before.tables);
  },
});

const restGatewayRefusals = {
  anonymous: refusedBody(401, { error: 'No authorization header presented' }),
  'malformed header': refusedBody(401, { error: 'Invalid authorization header' }),
  'unknown token': refusedBody(401, { error: 'Forbidden by auth provider' }),
  'expired token': refusedBody(401, { error: 'Forbidden by auth provider' }),
  'revoked token': refusedBody(401, { error: 'Forbidden by auth provider' }),
  'read_api token': refusedBody(403, { detail: 'Unauthorized to access code completions' }),
} satisfies Partial<Record<IdentityName, Outcome>>;

const restRailsRefusals = {
  anonymous: refusedBody(401, { message: '401 Unauthorized' }),
  'malformed header': refusedBody(401, { message: '401 Unauthorized' }),
  'unknown token': refusedBody(401, { message: '401 Unauthorized' }),
  'expired token': refusedBody(401, { message: '401 Unauthorized' }),
  'revoked token': refusedBody(401, { message: '401 Unauthorized' }),
  'read_api token': refusedBody(403, {
    error: 'insufficient_scope',
    error_description: 'The request requires higher privileges than provided by the access token.',
    scope: 'api',
  }),
} satisfies Partial<Record<IdentityName, Outcome>>;

const completionBody = {
  prompt_version: 1,
  current_file: { file_name: 'app.py', content_above_cursor: 'def add(a, b):\n', content_below_cursor: '' },
};

function completionsRoute(path: string): FieldSpec {
  return {
    field: `POST ${path}`,
    kind: 'rest',
    allowedUser: 'developer',
    // A developer of a Premium group without the Duo add-on.
    wrongUser: 'premium-dev',
    run: (identity) => rest(identity, path, completionBody),
    expected: {
      ...restGatewayRefusals,
      guest: allowed('holds a Duo seat in Ultimate Org'),
      'non-member': refusedBody(403, { detail: 'Unauthorized to access code completions' }),
      'wrong user': refusedBody(403, { detail: 'Unauthorized to access code completions' }),
      'allowed user': allowed('a Duo seat'),
    },
    check: ({ observed }) => {
      expect(observed.body).toMatchObject({ object: 'text_completion' });
    },
  };
}

function experimentationRoute(path: string, body: unknown): FieldSpec {
  const notFound = refusedBody(404, { message: '404 REST API endpoint not found Not Found' });
  return {
    field: `POST ${path}`,
    kind: 'rest',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) => rest(identity, path, body),
    expected: {
      ...restRailsRefusals,
      guest: notFound,
      'non-member': notFound,
      'wrong user': notFound,
      'allowed user': allowed('ai_experimentation_api is on for this user'),
    },
    check: ({ observed }) => {
      // Anthropic's legacy completion, or Vertex's :predict shape.
      const answer = observed.body as { completion?: unknown; predictions?: unknown };
      expect(typeof answer.completion === 'string' || Array.isArray(answer.predictions)).toBe(true);
    },
  };
}

function publicRoute(path: string): FieldSpec {
  const everyone = Object.fromEntries(identityNames.map((name) => [name, allowed('public')])) as Record<
    IdentityName,
    Outcome
  >;
  return {
    field: `GET ${path}`,
    kind: 'rest',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) => rest(identity, path, undefined),
    expected: everyone,
    check: ({ observed }) => {
      // Health never reads the token, and says nothing about the caller.
      expect(JSON.stringify(observed.body)).not.toMatch(/developer|glpat/);
    },
  };
}

const ownUserGid = (identity: Identity) => gidOf(identity.user ?? 'developer');

const fields: FieldSpec[] = [
  // ---- Query
  {
    field: 'Query.currentUser',
    kind: 'query',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) => graphql(identity, '{ currentUser { id username } }'),
    expected: {
      anonymous: allowed('null'),
      ...graphqlBadTokens,
      'read_api token': allowed('itself'),
      guest: allowed('itself'),
      'non-member': allowed('itself'),
      'wrong user': allowed('itself, never the developer'),
      'allowed user': allowed('itself'),
    },
    check: ({ observed, identity }) => {
      const user = observed.data?.currentUser as { id: string } | null;
      expect(user?.id ?? null).toBe(identity.user ? gidOf(identity.user) : null);
    },
  },
  {
    field: 'Query.aiMessages (Redis stream)',
    kind: 'query',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) => graphql(identity, '{ aiMessages { nodes { id requestId } } }'),
    expected: {
      anonymous: allowed('nothing'),
      ...graphqlBadTokens,
      'read_api token': allowed('its own history'),
      guest: allowed('its own history only'),
      'non-member': allowed('its own history only'),
      'wrong user': allowed('its own history only'),
      'allowed user': allowed('its own history'),
    },
    check: ({ observed, identity }) => {
      const owners = nodesOf(observed).map((node) => fixtures.requestOwners.get(node.requestId ?? ''));
      for (const owner of owners) expect(owner === undefined || owner === identity.user).toBe(true);
      if (identity.user === 'developer') expect(owners).toContain('developer');
      if (!identity.user) expect(owners).toEqual([]);
    },
  },
  {
    field: "Query.aiMessages(threadId: developer's)",
    kind: 'query',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) =>
      graphql(identity, 'query ($id: AiConversationThreadID) { aiMessages(threadId: $id) { nodes { id } } }', {
        id: fixtures.developerThread,
      }),
    expected: {
      anonymous: allowed('nothing'),
      ...graphqlBadTokens,
      'read_api token': allowed("the developer's own thread"),
      guest: refused(200, threadNotFoundMessage),
      'non-member': refused(200, threadNotFoundMessage),
      'wrong user': refused(200, threadNotFoundMessage),
      'allowed user': allowed('its own thread'),
    },
    check: ({ observed, identity }) => {
      expect(nodesOf(observed).length > 0).toBe(identity.user === 'developer');
    },
  },
  {
    field: "Query.aiConversationThreads(id: developer's)",
    kind: 'query',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) =>
      graphql(
        identity,
        'query ($id: AiConversationThreadID) { aiConversationThreads(id: $id) { nodes { id title } } }',
        {
          id: fixtures.developerThread,
        },
      ),
    expected: {
      anonymous: allowed('nothing'),
      ...graphqlBadTokens,
      'read_api token': allowed("the developer's own thread"),
      guest: allowed('nothing (scoped to the caller)'),
      'non-member': allowed('nothing (scoped to the caller)'),
      'wrong user': allowed('nothing (scoped to the caller)'),
      'allowed user': allowed('its own thread'),
    },
    check: ({ observed, identity }) => {
      expect(nodesOf(observed).length).toBe(identity.user === 'developer' ? 1 : 0);
    },
  },
  adminOnly('Query.aiProviderCircuits', '{ aiProviderCircuits { name state } }'),
  adminOnly('Query.aiTrackingEvents', '{ aiTrackingEvents(limit: 5) { action } }'),
  adminOnly('Query.featureFlags', '{ featureFlags { name enabled } }'),

  // ---- Mutation
  {
    field: 'Mutation.aiAction(summarizeComments: confidential Issue/2)',
    kind: 'mutation',
    allowedUser: 'developer',
    // A paying developer of another organisation.
    wrongUser: 'premium-dev',
    run: (identity) =>
      graphql(identity, chatMutation, { input: { summarizeComments: { resourceId: 'gid://gitlab/Issue/2' } } }),
    expected: {
      anonymous: forbidden,
      ...graphqlBadTokens,
      'read_api token': forbidden,
      guest: forbidden,
      'non-member': forbidden,
      'wrong user': forbidden,
      'allowed user': allowed('enqueued'),
    },
    check: ({ observed, before, after }) => {
      expect(observed.data?.aiAction).toMatchObject({ errors: [] });
      expect(after.jobs).toBe(before.jobs + 1);
      // The detector that proves refusals wrote nothing sees this request's writes.
      expect(changedKeys(before, after).length).toBeGreaterThan(0);
    },
  },
  {
    field: "Mutation.aiAction(chat in developer's thread)",
    kind: 'mutation',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) =>
      graphql(identity, chatMutation, {
        input: { chat: { content: 'And then?' }, threadId: fixtures.developerThread },
      }),
    expected: {
      anonymous: forbidden,
      ...graphqlBadTokens,
      'read_api token': forbidden,
      guest: refused(200, threadNotFoundMessage),
      'non-member': refused(200, refusalMessages.noChatAccess),
      'wrong user': refused(200, threadNotFoundMessage),
      'allowed user': allowed('enqueued, in its thread'),
    },
    check: ({ observed, before, after }) => {
      expect(observed.data?.aiAction).toMatchObject({ errors: [], threadId: fixtures.developerThread });
      expect(after.jobs).toBe(before.jobs + 1);
      expect(after.tables, 'the message is stored in the thread').not.toBe(before.tables);
    },
  },
  {
    field: "Mutation.aiCancel(developer's request)",
    kind: 'mutation',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) =>
      graphql(identity, 'mutation ($id: ID!) { aiCancel(requestId: $id) { requestId errors } }', {
        id: fixtures.developerQueuedRequest,
      }),
    expected: {
      anonymous: forbidden,
      ...graphqlBadTokens,
      'read_api token': forbidden,
      guest: refused(200, requestNotFoundMessage),
      'non-member': refused(200, requestNotFoundMessage),
      'wrong user': refused(200, requestNotFoundMessage),
      'allowed user': allowed('cancelled'),
    },
    check: ({ observed, before, after }) => {
      expect(observed.data?.aiCancel).toEqual({ requestId: fixtures.developerQueuedRequest, errors: [] });
      expect(after.jobs).toBe(before.jobs - 1);
    },
  },
  {
    field: "Mutation.duoUserFeedback(developer's message)",
    kind: 'mutation',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) =>
      graphql(identity, 'mutation ($input: DuoUserFeedbackInput!) { duoUserFeedback(input: $input) { errors } }', {
        input: { aiMessageId: fixtures.developerMessageId, selectedFeedbackOptions: ['helpful'] },
      }),
    expected: {
      anonymous: refused(200, resourceNotAvailableMessage),
      ...graphqlBadTokens,
      'read_api token': refused(200, resourceNotAvailableMessage),
      guest: refused(200, resourceNotAvailableMessage),
      'non-member': refused(200, resourceNotAvailableMessage),
      'wrong user': refused(200, resourceNotAvailableMessage),
      'allowed user': allowed('marked'),
    },
    check: async ({ observed }) => {
      expect(observed.data?.duoUserFeedback).toEqual({ errors: [] });
      const history = await as('developer', '{ aiMessages { nodes { id extras { hasFeedback } } } }');
      const nodes = (history.aiMessages as { nodes: { id: string; extras: { hasFeedback: boolean } }[] }).nodes;
      expect(nodes.find((node) => node.id === fixtures.developerMessageId)?.extras.hasFeedback).toBe(true);
    },
  },
  ownerOnlyGroupSetting(
    'Mutation.groupAiSettingsUpdate(Group/1)',
    'mutation ($groupId: NamespaceID!) { groupAiSettingsUpdate(groupId: $groupId, thirdPartyAiFeaturesEnabled: false) { groupId } }',
    { groupId: 'gid://gitlab/Group/1' },
  ),
  ownerOnlyGroupSetting(
    'Mutation.aiFeatureSettingUpdate(Group/1)',
    'mutation ($groupId: NamespaceID!) { aiFeatureSettingUpdate(groupId: $groupId, feature: CHAT, provider: FAKE) { provider } }',
    { groupId: 'gid://gitlab/Group/1' },
  ),
  adminOnly(
    'Mutation.featureFlagChange',
    'mutation { featureFlagChange(name: "expanded_ai_logging", change: ENABLE, actor: "gid://gitlab/User/1") { name } }',
  ),

  // ---- Subscription (graphql-ws)
  {
    field: "Subscription.aiCompletionResponse(userId: developer's)",
    kind: 'subscription',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) =>
      subscribe(identity, { userId: gidOf('developer') }, identity.user ? { userId: gidOf('developer') } : undefined),
    expected: {
      anonymous: refused(0, 'You must be signed in to subscribe to AI responses.'),
      ...webSocketBadTokens,
      'read_api token': allowed('its own responses (any scope reads)'),
      guest: refused(0, 'You can only subscribe to your own AI responses: userId must be your own.'),
      'non-member': refused(0, 'You can only subscribe to your own AI responses: userId must be your own.'),
      'wrong user': refused(0, 'You can only subscribe to your own AI responses: userId must be your own.'),
      'allowed user': allowed('live'),
    },
    check: ({ observed }) => {
      expect(observed.subscribed).toBe(true);
    },
  },
  {
    field: 'Subscription.aiCompletionResponse(resourceId: confidential Issue/2)',
    kind: 'subscription',
    allowedUser: 'developer',
    wrongUser: 'premium-dev',
    run: (identity) => {
      const argumentSet = { userId: ownUserGid(identity), resourceId: 'gid://gitlab/Issue/2' };
      return subscribe(identity, argumentSet, identity.user ? argumentSet : undefined);
    },
    expected: {
      anonymous: refused(0, 'You must be signed in to subscribe to AI responses.'),
      ...webSocketBadTokens,
      'read_api token': allowed('the developer can read the issue'),
      guest: refused(0, resourceNotAvailableMessage),
      'non-member': refused(0, resourceNotAvailableMessage),
      'wrong user': refused(0, resourceNotAvailableMessage),
      'allowed user': allowed('live'),
    },
    check: ({ observed }) => {
      expect(observed.subscribed).toBe(true);
    },
  },
  {
    field: "Subscription.aiCompletionResponse(requestId: developer's)",
    kind: 'subscription',
    allowedUser: 'developer',
    wrongUser: 'owner',
    run: (identity) =>
      subscribe(identity, { userId: ownUserGid(identity), requestId: fixtures.developerFinishedRequest }),
    expected: {
      anonymous: refused(0, 'You must be signed in to subscribe to AI responses.'),
      ...webSocketBadTokens,
      'read_api token': allowed("the developer's own request"),
      guest: refused(0, "The request does not exist or you don't have permission to read it."),
      'non-member': refused(0, "The request does not exist or you don't have permission to read it."),
      'wrong user': refused(0, "The request does not exist or you don't have permission to read it."),
      'allowed user': allowed('replays its final message'),
    },
    check: ({ observed }) => {
      expect(observed.data?.aiCompletionResponse).toMatchObject({
        requestId: fixtures.developerFinishedRequest,
        extras: { status: 'CANCELLED' },
      });
    },
  },

  // ---- REST
  completionsRoute('/v2/completions'),
  completionsRoute('/v2/code/completions'),
  experimentationRoute('/api/v4/ai/experimentation/anthropic/complete', {
    prompt: '\n\nHuman: hello\n\nAssistant:',
    model: 'claude-test',
  }),
  experimentationRoute('/api/v4/ai/experimentation/vertex/chat', { content: 'hello' }),
  experimentationRoute('/api/v4/ai/experimentation/tofa/chat', { content: 'hello' }),
  publicRoute('/-/health'),
  publicRoute('/-/readiness'),
];

function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'allowed':
      return `allowed: ${outcome.note}`;
    case 'refused':
      return `${outcome.status === 0 ? 'error' : outcome.status} ${outcome.message ?? JSON.stringify(outcome.body)}`;
    case 'closed':
      return `closed ${outcome.code}`;
    case 'gap':
      return `GAP: ${outcome.note}`;
  }
}

const matrix = fields.flatMap((spec) =>
  identityNames.map((name) => ({ spec, identityName: name, outcome: spec.expected[name] })),
);

describe('authorization matrix', () => {
  beforeAll(() => {
    const lines = matrix.map(
      ({ spec, identityName, outcome }) => `| ${spec.field} | ${identityName} | ${describeOutcome(outcome)} |`,
    );
    console.log(
      [
        `${matrix.length} rows (${fields.length} fields × ${identityNames.length} identities)`,
        '| field | identity | expected |',
        '|---|---|---|',
        ...lines,
      ].join('\n'),
    );
  });

  for (const spec of fields) {
    describe(spec.field, () => {
      for (const identityName of identityNames) {
        const outcome = spec.expected[identityName];
        it(`${identityName} → ${describeOutcome(outcome)}`, async () => {
          const identity = identityFor(identityName, spec);
          const before = await snapshot();
          const observed = await spec.run(identity);
          const after = await snapshot();
          expect(observed.status, 'never a server error').toBeLessThan(500);
          const writes = spec.kind === 'mutation' && outcome.kind === 'allowed';
          if (!writes && outcome.kind !== 'gap') expectUnchanged(before, after);
          switch (outcome.kind) {
            case 'allowed':
              expect(observed.errors, JSON.stringify(observed.errors)).toBeUndefined();
              expect(observed.closeCode).toBeUndefined();
              if (spec.kind === 'rest') expect(observed.status).toBe(200);
              await spec.check?.({ observed, identity, before, after });
              break;
            case 'refused':
              if (spec.kind === 'rest') {
                expect({ status: observed.status, body: observed.body }).toEqual({
                  status: outcome.status,
                  body: outcome.body,
                });
              } else {
                if (spec.kind !== 'subscription') expect(observed.status).toBe(outcome.status);
                expect(observed.errors?.map((error) => error.message)).toEqual([outcome.message]);
                // Nothing of the field leaks with the error.
                expect(Object.values(observed.data ?? {}).every((value) => value === null)).toBe(true);
              }
              break;
            case 'closed':
              expect(observed.closeCode).toBe(outcome.code);
              break;
            case 'gap':
              break;
          }
        });
      }
    });
  }
});

describe('outside the matrix', () => {
  it('a mutation sent with GET is refused (405) and enqueues nothing, even for the allowed user', async () => {
    const before = await snapshot();
    const query = encodeURIComponent('mutation { aiAction(input: { chat: { content: "hi" } }) { requestId } }');
    const response = await fetch(`${runtime.baseUrl}/api/graphql?query=${query}`, {
      headers: { authorization: `Bearer ${devToken('developer')}`, accept: 'application/graphql-response+json' },
    });
    expect(response.status).toBe(405);
    expectUnchanged(before, await snapshot());
  });
});
