import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import { toGlobalId } from '../../src/gid.ts';
import {
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  subscribeOverSse,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { type ServiceProcess, startServiceProcess } from '../helpers/service-process.ts';
import { type ServedDatabase, serveSeededDatabase } from '../helpers/test-database.ts';

const namespace = createRedisNamespace();
let database: ServedDatabase;
let api: ServiceProcess;
let worker: ServiceProcess;
let baseUrl: string;
const clients: Client[] = [];

const developer = { id: 3, gid: toGlobalId('User', 3), token: devToken('developer') };
const owner = { id: 2, gid: toGlobalId('User', 2), token: devToken('owner') };

const chatMutation = /* GraphQL */ `
  mutation ($content: String!, $clientSubscriptionId: String, $resourceId: AiModelID) {
    aiAction(input: { chat: { content: $content, resourceId: $resourceId }, clientSubscriptionId: $clientSubscriptionId }) {
      requestId errors
    }
  }
`;

let environment: Record<string, string>;

beforeAll(async () => {
  database = await serveSeededDatabase();
  environment = {
    DATABASE_URL: database.url,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: namespace.prefix,
    REDIS_AUTOSTART: 'false',
    PORT: '0',
    METRICS_PORT: '0',
    FAKE_MODEL_LATENCY_MS: '2',
    FAKE_MODEL_CHUNK_SIZE: '8',
  };
  [api, worker] = await Promise.all([
    startServiceProcess('src/start-api.ts', environment),
    startServiceProcess('src/start-worker.ts', environment),
  ]);
  baseUrl = `http://127.0.0.1:${api.port}`;
}, 120_000);

afterAll(async () => {
  for (const client of clients) await client.dispose();
  const exitCodes = await Promise.all([api?.stop(), worker?.stop()]);
  await database?.stop();
  await namespace.cleanup();
  // Graceful shutdown on SIGTERM exits 0.
  expect(exitCodes).toEqual([0, 0]);
}, 60_000);

describe('API and worker as two processes sharing only Redis and Postgres', () => {
  it('streams chunks 1..n in order and then the final message to a graphql-ws and a graphql-sse subscriber', async () => {
    const clientSubscriptionId = randomUUID();
    const argumentSet = { userId: developer.gid, aiAction: 'chat', clientSubscriptionId };
    const wsClient = connectWebSocketClient(baseUrl, developer.token);
    clients.push(wsClient);
    const overWebSocket = subscribeOverWebSocket(wsClient, { ...argumentSet, aiAction: 'CHAT' });
    // The SSE client uses the legacy key set {userId, resourceId, clientSubscriptionId} (no resource
    // here), which receives the same chunks: a separate channel, so the test can see both are in place.
    const overSse = subscribeOverSse(baseUrl, developer.token, { userId: developer.gid, clientSubscriptionId });
    await waitForSubscribers(testRedisUrl, namespace.prefix, argumentSet);
    await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: developer.gid, clientSubscriptionId });

    const content = 'How do I set up a CI pipeline for a Node project?';
    const response = await graphqlRequest<{ aiAction: { requestId: string; errors: string[] } }>(
      baseUrl,
      chatMutation,
      {
        token: developer.token,
        variables: { content, clientSubscriptionId },
      },
    );
    expect(response.status).toBe(200);
    expect(response.body.errors).toBeUndefined();
    const requestId = response.body.data?.aiAction.requestId;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(response.body.data?.aiAction.errors).toEqual([]);

    for (const collector of [overWebSocket, overSse]) {
      const final = await collector.waitFor(isFinalAnswer(requestId));
      const chunks = collector.messages.filter((message) => message.chunkId !== null);
      expect(chunks.length).toBeGreaterThan(1);
      expect(chunks.map((chunk) => chunk.chunkId)).toEqual(chunks.map((_, index) => index + 1));
      expect(chunks.every((chunk) => chunk.contentHtml === null && chunk.requestId === requestId)).toBe(true);
      expect(final.requestId).toBe(requestId);
      expect(final.content).toBe(chunks.map((chunk) => chunk.content).join(''));
      expect(final.content).toContain('How do I set up a CI pipeline');
      expect(final.contentHtml).toContain('<strong>Fake model answer.</strong>');
      expect(final.errors).toEqual([]);
      expect(final.extras.status).toBe('COMPLETED');
      // The final message is the last one: nothing arrives after it.
      expect(collector.messages.at(-1)).toBe(final);
      collector.stop();
    }
  });

  it("never shows one user's messages to another user's subscription", async () => {
    const sharedClientSubscriptionId = randomUUID();
    const ownerClient = connectWebSocketClient(baseUrl, owner.token);
    clients.push(ownerClient);
    const ownerAllChat = subscribeOverWebSocket(ownerClient, { userId: owner.gid, aiAction: 'CHAT' });
    const ownerSameClientId = subscribeOverWebSocket(ownerClient, {
      userId: owner.gid,
      aiAction: 'CHAT',
      clientSubscriptionId: sharedClientSubscriptionId,
    });
    const developerClient = connectWebSocketClient(baseUrl, developer.token);
    clients.push(developerClient);
    const developerAllChat = subscribeOverWebSocket(developerClient, { userId: developer.gid, aiAction: 'CHAT' });
    await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: owner.gid, aiAction: 'chat' });
    await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: developer.gid, aiAction: 'chat' });

    const response = await graphqlRequest<{ aiAction: { requestId: string } }>(baseUrl, chatMutation, {
      token: developer.token,
      variables: { content: 'secret question from the developer', clientSubscriptionId: sharedClientSubscriptionId },
    });
    const requestId = response.body.data?.aiAction.requestId;
    await developerAllChat.waitFor(isFinalAnswer(requestId));
    // The owner's subscriptions stay silent, even with the same clientSubscriptionId.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(ownerAllChat.messages).toEqual([]);
    expect(ownerSameClientId.messages).toEqual([]);
    // The developer's all-tabs subscription got the prompt and the answer, but no chunks.
    expect(developerAllChat.messages.map((message) => [message.role, message.chunkId])).toEqual([
      ['USER', null],
      ['ASSISTANT', null],
    ]);
  });

  it('a flag flipped by another process (the flags CLI) takes effect in the API within a second', async () => {
    const runFlags = (...args: string[]) =>
      promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/flags.ts', ...args], {
        env: { ...process.env, ...environment },
      });
    const chat = () =>
      graphqlRequest<{ aiAction: { requestId: string } | null }>(baseUrl, chatMutation, {
        token: developer.token,
        variables: { content: 'Is chat on?' },
      });
    expect((await chat()).body.data?.aiAction?.requestId).toBeDefined();
    try {
      await runFlags('disable', 'ai_duo_chat_switch');
      const flippedAt = Date.now();
      let refusal: string | undefined;
      while (Date.now() - flippedAt < 1_000 && !refusal) refusal = (await chat()).body.errors?.[0]?.message;
      expect(refusal).toBe('You do not have access to chat feature.');
    } finally {
      await runFlags('enable', 'ai_duo_chat_switch');
    }
    const enabledAt = Date.now();
    let accepted = false;
    while (Date.now() - enabledAt < 1_000 && !accepted)
      accepted = Boolean((await chat()).body.data?.aiAction?.requestId);
    expect(accepted).toBe(true);
  });

  it('on SIGTERM a worker finishes the answer it is streaming, then exits 0', async () => {
    // A second, slow worker: 60 ms per chunk. Stop the fast one so the slow one takes the job.
    const slowWorker = await startServiceProcess('src/start-worker.ts', {
      ...environment,
      FAKE_MODEL_LATENCY_MS: '60',
    });
    expect(await worker.stop()).toBe(0);
    try {
      const clientSubscriptionId = randomUUID();
      const client = connectWebSocketClient(baseUrl, developer.token);
      clients.push(client);
      const collector = subscribeOverWebSocket(client, {
        userId: developer.gid,
        aiAction: 'CHAT',
        clientSubscriptionId,
      });
      await waitForSubscribers(testRedisUrl, namespace.prefix, {
        userId: developer.gid,
        aiAction: 'chat',
        clientSubscriptionId,
      });
      const response = await graphqlRequest<{ aiAction: { requestId: string } }>(baseUrl, chatMutation, {
        token: developer.token,
        variables: { content: 'A question answered while the worker is told to stop', clientSubscriptionId },
      });
      const requestId = response.body.data?.aiAction.requestId as string;
      await collector.waitFor((message) => message.chunkId === 1);
      const exited = slowWorker.stop('SIGTERM');
      const final = await collector.waitFor(isFinalAnswer(requestId), 20_000);
      expect(final.extras.status).toBe('COMPLETED');
      expect(final.content).toContain('A question answered while the worker is told to stop');
      expect(await exited).toBe(0);
    } finally {
      await slowWorker.stop('SIGKILL');
      worker = await startServiceProcess('src/start-worker.ts', environment);
    }
  }, 60_000);

  it("refuses a subscription to another user's userId", async () => {
    const client = connectWebSocketClient(baseUrl, developer.token);
    clients.push(client);
    const refused = subscribeOverWebSocket(client, { userId: owner.gid, aiAction: 'CHAT' });
    const error = await refused.waitForError();
    expect(JSON.stringify(error)).toContain('You can only subscribe to your own AI responses');
  });
});
