import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { devToken } from '../../seeds/dev-world.ts';
import { maxChatContentLength } from '../../src/actions/chat.ts';
import { maxExplainCodeCharacters } from '../../src/actions/explain-code.ts';
import { chatHistoryKey } from '../../src/chat/chat-history.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { resourceNotAvailableMessage } from '../../src/errors.ts';
import { aiActionQueueName, bullPrefix } from '../../src/workers/queues.ts';
import { graphqlRequest } from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
let database: DatabaseHandle;
let runtime: TestRuntime;
let queue: Queue;
let redis: Redis;

const aiAction = /* GraphQL */ `
  mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId errors clientMutationId } }
`;

async function queuedJobs(): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'prioritized');
  return Object.values(counts).reduce((total, count) => total + count, 0);
}

async function historyLength(userId: number): Promise<number> {
  return redis.xlen(chatHistoryKey(namespace.prefix, userId));
}

async function expectRefused(input: Record<string, unknown>, token: string | undefined, message: string | RegExp) {
  const jobsBefore = await queuedJobs();
  const historyBefore = await historyLength(3);
  const response = await graphqlRequest<{ aiAction: unknown }>(runtime.baseUrl, aiAction, {
    variables: { input },
    ...(token ? { token } : {}),
  });
  expect(response.body.data?.aiAction ?? null).toBeNull();
  expect(response.body.errors?.[0]?.message).toMatch(message);
  expect(await queuedJobs()).toBe(jobsBefore);
  expect(await historyLength(3)).toBe(historyBefore);
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  // The API alone: nothing consumes the queue, so every accepted request stays countable.
  runtime = await startTestRuntime({ role: 'api', database, prefix: namespace.prefix });
  queue = new Queue(aiActionQueueName, { connection: new Redis(testRedisUrl), prefix: bullPrefix(namespace.prefix) });
  redis = new Redis(testRedisUrl);
}, 60_000);

afterAll(async () => {
  await queue.close();
  redis.disconnect();
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

const developer = devToken('developer');

describe('aiAction refuses bad input with a clear error and enqueues nothing', () => {
  let acceptedBaseline = 0;
  beforeEach(async () => {
    acceptedBaseline = await queuedJobs();
  });

  it('accepts a valid chat request (the control: the counters below can move)', async () => {
    const response = await graphqlRequest<{
      aiAction: { requestId: string; errors: string[]; clientMutationId: string };
    }>(runtime.baseUrl, aiAction, {
      token: developer,
      variables: { input: { chat: { content: 'hello' }, clientMutationId: 'm-1' } },
    });
    expect(response.body.data?.aiAction).toMatchObject({ errors: [], clientMutationId: 'm-1' });
    expect(await queuedJobs()).toBe(acceptedBaseline + 1);
    const job = await queue.getJob(response.body.data?.aiAction.requestId ?? '');
    expect(job?.name).toBe('chat');
    // The job holds ids and the arguments, never loaded objects.
    expect(job?.data).toMatchObject({ userId: 3, actionName: 'chat', resourceGid: null, input: { content: 'hello' } });
  });

  it('two action keys', async () => {
    await expectRefused(
      { chat: { content: 'hi' }, summarizeComments: { resourceId: 'gid://gitlab/Issue/1' } },
      developer,
      'Only one method argument is required',
    );
  });

  it('no action key', async () => {
    await expectRefused({ clientSubscriptionId: 'x' }, developer, 'Only one method argument is required');
  });

  it('an unknown GID', async () => {
    await expectRefused(
      { summarizeComments: { resourceId: 'gid://gitlab/Issue/999999' } },
      developer,
      resourceNotAvailableMessage,
    );
  });

  it('a malformed GID', async () => {
    await expectRefused(
      { summarizeComments: { resourceId: 'issue-1' } },
      developer,
      '"issue-1" is not a valid Global ID',
    );
  });

  it('a GID of a type the action does not take', async () => {
    await expectRefused(
      { summarizeComments: { resourceId: 'gid://gitlab/Project/1' } },
      developer,
      'summarizeComments cannot act on a Project; it accepts Issue, Epic',
    );
  });

  it('a GID of a type no AI action takes', async () => {
    await expectRefused(
      { chat: { content: 'hi', namespaceId: 'gid://gitlab/Project/1' } },
      developer,
      /does not represent an instance of Group/,
    );
  });

  it('an over-long chat content', async () => {
    await expectRefused(
      { chat: { content: 'x'.repeat(maxChatContentLength + 1) } },
      developer,
      `chat.content is too long (maximum is ${maxChatContentLength} characters)`,
    );
  });

  it('explain-code messages over GitLab’s total budget', async () => {
    const half = 'y'.repeat(Math.ceil(maxExplainCodeCharacters / 2) + 1);
    await expectRefused(
      {
        explainCode: {
          resourceId: 'gid://gitlab/Project/1',
          messages: [
            { role: 'user', content: half },
            { role: 'user', content: half },
          ],
        },
      },
      developer,
      'The messages are too big',
    );
  });

  it('a blank chat content', async () => {
    await expectRefused({ chat: { content: '   ' } }, developer, "chat.content can't be blank");
  });

  it('a missing required argument', async () => {
    await expectRefused({ explainCode: { resourceId: 'gid://gitlab/Project/1' } }, developer, /messages/);
  });
});

describe('aiAction authorization', () => {
  it('refuses anonymous requests', async () => {
    await expectRefused({ chat: { content: 'hi' } }, undefined, resourceNotAvailableMessage);
  });

  it('refuses a read_api token and accepts an ai_features token', async () => {
    await expectRefused({ chat: { content: 'hi' } }, 'glpat-dev-developer-read', resourceNotAvailableMessage);
    const response = await graphqlRequest<{ aiAction: { errors: string[] } }>(runtime.baseUrl, aiAction, {
      token: 'glpat-dev-developer-ai',
      variables: { input: { chat: { content: 'hi' } } },
    });
    expect(response.body.data?.aiAction.errors).toEqual([]);
  });

  it('a non-member cannot act on an issue of a private project', async () => {
    await expectRefused(
      { summarizeComments: { resourceId: 'gid://gitlab/Issue/1' } },
      devToken('outsider'),
      resourceNotAvailableMessage,
    );
  });

  it('a guest cannot act on a confidential issue; a developer can', async () => {
    await expectRefused(
      { summarizeComments: { resourceId: 'gid://gitlab/Issue/2' } },
      devToken('guest'),
      resourceNotAvailableMessage,
    );
    const response = await graphqlRequest<{ aiAction: { errors: string[] } }>(runtime.baseUrl, aiAction, {
      token: developer,
      variables: { input: { summarizeComments: { resourceId: 'gid://gitlab/Issue/2' } } },
    });
    expect(response.body.data?.aiAction.errors).toEqual([]);
  });

  it('a user who can read an issue of a public project still needs a Duo seat', async () => {
    await expectRefused(
      { summarizeComments: { resourceId: 'gid://gitlab/Issue/5' } },
      devToken('outsider'),
      'AI features are not enabled or resource is not permitted to be sent.',
    );
  });
});

describe('authentication', () => {
  const currentUser = '{ currentUser { id username } }';

  it('accepts Authorization: Bearer and PRIVATE-TOKEN', async () => {
    const bearer = await graphqlRequest<{ currentUser: { username: string; id: string } }>(
      runtime.baseUrl,
      currentUser,
      {
        token: devToken('owner'),
      },
    );
    expect(bearer.body.data?.currentUser).toEqual({ id: 'gid://gitlab/User/2', username: 'owner' });
    const privateToken = await graphqlRequest<{ currentUser: { username: string } }>(runtime.baseUrl, currentUser, {
      headers: { 'private-token': devToken('guest') },
    });
    expect(privateToken.body.data?.currentUser.username).toBe('guest');
  });

  it('anonymous requests are allowed and see no user', async () => {
    const anonymous = await graphqlRequest<{ currentUser: null }>(runtime.baseUrl, currentUser);
    expect(anonymous.status).toBe(200);
    expect(anonymous.body.data?.currentUser).toBeNull();
  });

  it('answers 401 with a message and no stack trace for a wrong or expired token', async () => {
    for (const [token, message] of [
      ['glpat-wrong', 'Invalid token'],
      [devToken('expired'), 'Token has expired.'],
    ] as const) {
      const response = await graphqlRequest(runtime.baseUrl, currentUser, { token });
      expect(response.status).toBe(401);
      expect(response.body.errors?.[0]?.message).toBe(message);
      expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.ts:\d+/);
    }
  });

  it('refuses a WebSocket connection with a wrong token', async () => {
    const socket = new WebSocket(`${runtime.baseUrl.replace('http', 'ws')}/api/graphql`, 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: 'Bearer glpat-wrong' } }));
    const code = await new Promise<number>((resolve) =>
      socket.once('close', (closeCode: number) => resolve(closeCode)),
    );
    expect(code).toBe(4403);
  });
});

describe('aiCompletionResponse authorization', () => {
  const subscription = /* GraphQL */ `
    subscription ($userId: UserID, $resourceId: AiModelID) { aiCompletionResponse(userId: $userId, resourceId: $resourceId) { id } }
  `;

  async function subscribeOnce(token: string, variables: Record<string, unknown>) {
    const response = await fetch(`${runtime.baseUrl}/api/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: subscription, variables }),
    });
    const reader = response.body?.getReader();
    const { value } = (await reader?.read()) ?? {};
    await reader?.cancel();
    return new TextDecoder().decode(value);
  }

  it("refuses another user's userId", async () => {
    expect(await subscribeOnce(developer, { userId: 'gid://gitlab/User/2' })).toContain(
      'You can only subscribe to your own AI responses',
    );
  });

  it('refuses a resource the user cannot read', async () => {
    expect(
      await subscribeOnce(devToken('outsider'), { userId: 'gid://gitlab/User/5', resourceId: 'gid://gitlab/Issue/1' }),
    ).toContain(resourceNotAvailableMessage.slice(0, 40));
  });

  it('refuses a userId of the wrong type', async () => {
    expect(await subscribeOnce(developer, { userId: 'gid://gitlab/Project/1' })).toContain(
      'does not represent an instance of User',
    );
  });
});

describe('the ai_action rate limit', () => {
  it('refuses the request after the limit with GitLab’s message and enqueues nothing', async () => {
    const limitedNamespace = createRedisNamespace();
    const limited = await startTestRuntime({
      role: 'api',
      database,
      prefix: limitedNamespace.prefix,
      environment: { AI_ACTION_RATE_LIMIT: '2' },
    });
    const limitedQueue = new Queue(aiActionQueueName, {
      connection: new Redis(testRedisUrl),
      prefix: bullPrefix(limitedNamespace.prefix),
    });
    try {
      const send = () =>
        graphqlRequest<{ aiAction: { errors: string[] } | null }>(limited.baseUrl, aiAction, {
          token: developer,
          variables: { input: { chat: { content: 'again' } } },
        });
      expect((await send()).body.data?.aiAction?.errors).toEqual([]);
      expect((await send()).body.data?.aiAction?.errors).toEqual([]);
      const refused = await send();
      expect(refused.body.errors?.[0]?.message).toBe(
        'This endpoint has been requested too many times. Try again later.',
      );
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(await limitedQueue.count()).toBe(2);
      // Another user has a budget of their own.
      const other = await graphqlRequest<{ aiAction: { errors: string[] } }>(limited.baseUrl, aiAction, {
        token: devToken('owner'),
        variables: { input: { chat: { content: 'mine' } } },
      });
      expect(other.body.data?.aiAction.errors).toEqual([]);
    } finally {
      await limitedQueue.close();
      await limited.close();
      await limitedNamespace.cleanup();
    }
  });
});

describe('input moderation on aiAction', () => {
  it('refuses a blocked input before anything is written, and redacts secrets from what is enqueued and stored', async () => {
    const moderatedNamespace = createRedisNamespace();
    const moderated = await startTestRuntime({
      role: 'api',
      database,
      prefix: moderatedNamespace.prefix,
      environment: { MODERATION_DEFAULT: 'rules', MODERATION_BLOCKED_PATTERNS: '["forbidden[- ]topic"]' },
    });
    const moderatedQueue = new Queue(aiActionQueueName, {
      connection: new Redis(testRedisUrl),
      prefix: bullPrefix(moderatedNamespace.prefix),
    });
    try {
      const blocked = await graphqlRequest<{ aiAction: null }>(moderated.baseUrl, aiAction, {
        token: developer,
        variables: { input: { chat: { content: 'Tell me about the forbidden topic' } } },
      });
      expect(blocked.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(blocked.body.errors?.[0]?.message.length).toBeGreaterThan(10);
      expect(await moderatedQueue.count()).toBe(0);
      expect(await redis.xlen(chatHistoryKey(moderatedNamespace.prefix, 3))).toBe(0);

      const secret = 'glpat-AbCdEfGhIjKlMnOpQrSt';
      const accepted = await graphqlRequest<{ aiAction: { requestId: string } }>(moderated.baseUrl, aiAction, {
        token: developer,
        variables: { input: { chat: { content: `Why does ${secret} fail? Mail me at jane@example.com` } } },
      });
      const job = await moderatedQueue.getJob(accepted.body.data?.aiAction.requestId ?? '');
      const enqueued = String((job?.data as { input: { content: string } } | undefined)?.input.content);
      expect(enqueued).not.toContain(secret);
      expect(enqueued).not.toContain('jane@example.com');
      expect(enqueued).toContain('Why does');
      const stored = await redis.xrange(chatHistoryKey(moderatedNamespace.prefix, 3), '-', '+');
      expect(JSON.stringify(stored)).not.toContain(secret);
    } finally {
      await moderatedQueue.close();
      await moderated.close();
      await moderatedNamespace.cleanup();
    }
  });
});
