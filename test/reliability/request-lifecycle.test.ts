import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import { requestFinishedMessage, requestNotFoundMessage } from '../../src/schema/ai-cancel.ts';
import { expiredMessage } from '../../src/workers/settle-before-start.ts';
import {
  type AiMessage,
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  MessageCollector,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { type AnthropicStandin, startAnthropicStandin } from '../helpers/standins/anthropic-standin.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
let standin: AnthropicStandin;
let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
/** A slash command streams the model's text as it arrives; the stand-in echoes the prompt, a word per delta. */
const longQuestion = `/explain ${'the quick brown fox jumps over the lazy dog '.repeat(12)}`;

const cancelMutation = 'mutation ($id: ID!) { aiCancel(requestId: $id) { requestId errors } }';

async function startRequest(content: string, token = developer.token) {
  const clientSubscriptionId = randomUUID();
  const collector = subscribeOverWebSocket(client, { userId: developer.gid, aiAction: 'CHAT', clientSubscriptionId });
  await waitForSubscribers(testRedisUrl, namespace.prefix, {
    userId: developer.gid,
    aiAction: 'chat',
    clientSubscriptionId,
  });
  const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
    runtime.baseUrl,
    'mutation ($content: String!, $id: String) { aiAction(input: { chat: { content: $content }, clientSubscriptionId: $id }) { requestId } }',
    { token, variables: { content, id: clientSubscriptionId } },
  );
  return { requestId: response.body.data?.aiAction.requestId as string, collector };
}

const chunksOf = (messages: AiMessage[], requestId: string) =>
  messages.filter((message) => message.requestId === requestId && message.chunkId !== null);

beforeAll(async () => {
  standin = await startAnthropicStandin();
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: namespace.prefix,
    environment: {
      USE_FAKE_MODELS: 'false',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: standin.url,
      // The stand-in's model switch: a 30 ms pause before each delta.
      ANTHROPIC_MODEL: 'slow-30',
    },
  });
  client = connectWebSocketClient(runtime.baseUrl, developer.token);
}, 60_000);

afterAll(async () => {
  await client.dispose();
  await runtime.close();
  await database.close();
  await standin.close();
  await namespace.cleanup();
});

describe('cancelling', () => {
  it('stops a running request: the provider sees the abort and the one final message says CANCELLED', async () => {
    const { requestId, collector } = await startRequest(longQuestion);
    await collector.waitFor((message) => message.requestId === requestId && message.chunkId === 3);
    const cancelled = await graphqlRequest<{ aiCancel: { errors: string[] } }>(runtime.baseUrl, cancelMutation, {
      token: developer.token,
      variables: { id: requestId },
    });
    expect(cancelled.body.data?.aiCancel.errors).toEqual([]);
    const final = await collector.waitFor(isFinalAnswer(requestId));
    expect(final.extras.status).toBe('CANCELLED');
    const chunks = chunksOf(collector.messages, requestId);
    expect(final.content).toBe(chunks.map((chunk) => chunk.content).join(''));
    await vi.waitFor(() => expect(standin.messageRequests().at(-1)?.aborted).toBe(true), { timeout: 5_000 });
    // Nothing more arrives after the end, and cancelling again is refused with a reason.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(collector.messages.filter(isFinalAnswer(requestId))).toHaveLength(1);
    const again = await graphqlRequest<{ aiCancel: { errors: string[] } }>(runtime.baseUrl, cancelMutation, {
      token: developer.token,
      variables: { id: requestId },
    });
    expect(again.body.data?.aiCancel.errors).toEqual([requestFinishedMessage]);
    collector.stop();
  });

  it("refuses to cancel another user's request or an unknown one, in the same words", async () => {
    const { requestId, collector } = await startRequest('/explain short');
    for (const [token, id] of [
      [devToken('owner'), requestId],
      [developer.token, randomUUID()],
    ] as const) {
      const refused = await graphqlRequest(runtime.baseUrl, cancelMutation, { token, variables: { id } });
      expect(refused.body.errors?.[0]?.message).toBe(requestNotFoundMessage);
    }
    expect((await collector.waitFor(isFinalAnswer(requestId))).extras.status).toBe('COMPLETED');
    collector.stop();
  });
});

describe('resuming after a reconnect', () => {
  it('replays the missed chunks, then the live ones, then the final message: no gap, no duplicate', async () => {
    const { requestId, collector } = await startRequest(longQuestion);
    await collector.waitFor((message) => message.requestId === requestId && message.chunkId === 5);
    collector.stop(); // the network drops
    const seen = chunksOf(collector.messages, requestId);
    const lastChunkId = seen.at(-1)?.chunkId ?? 0;
    await new Promise((resolve) => setTimeout(resolve, 150)); // chunks keep coming while the client is away

    const reconnected = connectWebSocketClient(runtime.baseUrl, developer.token);
    // Resuming: the request and the last chunk seen, on a new connection.
    const resumed = subscribeOverWebSocket(reconnected, { userId: developer.gid, requestId, lastChunkId });
    const final = await resumed.waitFor(isFinalAnswer(requestId), 20_000);
    resumed.stop();
    await reconnected.dispose();
    const all = [...seen, ...chunksOf(resumed.messages, requestId)];
    expect(all.map((chunk) => chunk.chunkId)).toEqual(all.map((_, index) => index + 1));
    expect(chunksOf(resumed.messages, requestId)[0]?.chunkId).toBe(lastChunkId + 1);
    expect(all.map((chunk) => chunk.content).join('')).toBe(final.content);
    expect(final.extras.status).toBe('COMPLETED');
  });

  it("refuses to resume another user's request", async () => {
    const { requestId, collector } = await startRequest('/explain tiny');
    await collector.waitFor(isFinalAnswer(requestId));
    collector.stop();
    const stranger = connectWebSocketClient(runtime.baseUrl, devToken('owner'));
    const attempt = new MessageCollector();
    stranger.subscribe(
      {
        query:
          'subscription ($userId: UserID, $requestId: ID) { aiCompletionResponse(userId: $userId, requestId: $requestId) { id content } }',
        variables: { userId: toGlobalId('User', 2), requestId },
      },
      {
        next: (result) => result.errors && attempt.fail(result.errors),
        error: (error) => attempt.fail(error),
        complete: () => undefined,
      },
    );
    expect(JSON.stringify(await attempt.waitForError())).toContain("don't have permission to read it");
    expect(attempt.messages).toEqual([]);
    await stranger.dispose();
  });
});

describe('deadlines and queued requests', () => {
  let apiOnly: TestRuntime;
  let worker: TestRuntime | undefined;
  const lateNamespace = createRedisNamespace();

  beforeAll(async () => {
    apiOnly = await startTestRuntime({
      role: 'api',
      database,
      prefix: lateNamespace.prefix,
      environment: { AI_REQUEST_DEADLINE_MS: '1000' },
    });
  });

  afterAll(async () => {
    await worker?.close();
    await apiOnly.close();
    await lateNamespace.cleanup();
  });

  async function queue(content: string) {
    const apiClient = connectWebSocketClient(apiOnly.baseUrl, developer.token);
    const collector = subscribeOverWebSocket(apiClient, { userId: developer.gid, aiAction: 'CHAT' });
    await waitForSubscribers(testRedisUrl, lateNamespace.prefix, { userId: developer.gid, aiAction: 'chat' });
    const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
      apiOnly.baseUrl,
      'mutation ($content: String!) { aiAction(input: { chat: { content: $content } }) { requestId } }',
      { token: developer.token, variables: { content } },
    );
    return { requestId: response.body.data?.aiAction.requestId as string, collector, apiClient };
  }

  it('cancels a request still in the queue: the API ends it and no worker ever runs it', async () => {
    const { requestId, collector, apiClient } = await queue('/explain queued work');
    const cancelled = await graphqlRequest<{ aiCancel: { errors: string[] } }>(apiOnly.baseUrl, cancelMutation, {
      token: developer.token,
      variables: { id: requestId },
    });
    expect(cancelled.body.data?.aiCancel.errors).toEqual([]);
    const final = await collector.waitFor(isFinalAnswer(requestId));
    expect(final.extras.status).toBe('CANCELLED');
    collector.stop();
    await apiClient.dispose();
  });

  it('ends a request picked up after its deadline as EXPIRED without calling a provider', async () => {
    const { requestId, collector, apiClient } = await queue('/explain late work');
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const requestsBefore = standin.messageRequests().length;
    worker = await startTestRuntime({
      role: 'worker',
      database,
      prefix: lateNamespace.prefix,
      environment: { USE_FAKE_MODELS: 'false', ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: standin.url },
    });
    const final = await collector.waitFor(isFinalAnswer(requestId), 15_000);
    expect(final.extras.status).toBe('EXPIRED');
    expect(final.errors).toEqual([expiredMessage]);
    expect(standin.messageRequests().length).toBe(requestsBefore);
    collector.stop();
    await apiClient.dispose();
  });
});
