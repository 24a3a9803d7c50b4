import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { AiMessage as StoredAiMessage } from '../../src/ai-message.ts';
import { chatHistoryKey, chatHistoryLimits, createChatHistory } from '../../src/chat/chat-history.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import { createFakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import {
  type AiMessage,
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
const fake = createFakeProvider();
const providers: ProviderRegistry = { forFeature: () => fake, list: () => [fake] };
let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;
let redis: Redis;
const developer = { id: 3, gid: toGlobalId('User', 3), token: devToken('developer') };

const messagesQuery = /* GraphQL */ `
  query ($requestIds: [ID!], $roles: [AiMessageRole!]) {
    aiMessages(requestIds: $requestIds, roles: $roles) { nodes { id requestId content contentHtml role extras { hasFeedback } } }
  }
`;

async function messages(token = developer.token, variables: Record<string, unknown> = {}) {
  const response = await graphqlRequest<{ aiMessages: { nodes: AiMessage[] } }>(runtime.baseUrl, messagesQuery, {
    token,
    variables,
  });
  return response.body.data?.aiMessages.nodes ?? [];
}

/** Sends a chat message; waits for the answer unless it is a command that gets none. */
async function chat(content: string, expectAnswer = true): Promise<string> {
  const collector = subscribeOverWebSocket(client, { userId: developer.gid, aiAction: 'CHAT' });
  await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: developer.gid, aiAction: 'chat' });
  const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
    runtime.baseUrl,
    'mutation ($content: String!, $id: String) { aiAction(input: { chat: { content: $content }, clientSubscriptionId: $id }) { requestId } }',
    { token: developer.token, variables: { content, id: randomUUID() } },
  );
  const requestId = response.body.data?.aiAction.requestId as string;
  await collector.waitFor((message) => message.requestId === requestId && message.role === 'USER');
  if (expectAnswer) await collector.waitFor(isFinalAnswer(requestId));
  collector.stop();
  return requestId;
}

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({ role: 'all', database, prefix: namespace.prefix, providers });
  client = connectWebSocketClient(runtime.baseUrl, developer.token);
  redis = new Redis(testRedisUrl);
}, 60_000);

afterAll(async () => {
  redis.disconnect();
  await client.dispose();
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

describe('chat history', () => {
  it('keeps questions and answers, oldest first, and sends the conversation to the model', async () => {
    const first = await chat('What is a merge train?');
    await chat('And how do I enable it?');
    const history = await messages();
    expect(history.map((message) => message.role)).toEqual(['USER', 'ASSISTANT', 'USER', 'ASSISTANT']);
    expect(history[0]?.content).toBe('What is a merge train?');
    expect(history[1]?.contentHtml).toContain('<strong>Fake model answer.</strong>');
    // The earlier exchange goes to the model as turns before the agent's question.
    const secondTurns = fake.calls.at(-1)?.messages ?? [];
    expect(secondTurns[0]).toEqual({ role: 'user', content: 'What is a merge train?' });
    expect(secondTurns[1]?.role).toBe('assistant');
    expect(secondTurns[1]?.content).toMatch(/^\*\*Fake model answer\.\*\*/);
    expect(secondTurns.at(-1)?.content).toMatch(/^Question: And how do I enable it\?/);
    // Filters: by request and by role.
    expect((await messages(developer.token, { requestIds: [first] })).map((message) => message.role)).toEqual([
      'USER',
      'ASSISTANT',
    ]);
    expect((await messages(developer.token, { roles: ['USER'] })).map((message) => message.content)).toEqual([
      'What is a merge train?',
      'And how do I enable it?',
    ]);
  });

  it('is private: another user sees none of it, anonymous sees nothing', async () => {
    expect(await messages(devToken('owner'))).toEqual([]);
    const anonymous = await graphqlRequest<{ aiMessages: { nodes: unknown[] } }>(runtime.baseUrl, messagesQuery);
    expect(anonymous.body.data?.aiMessages.nodes).toEqual([]);
  });

  it('/reset starts a new conversation without calling a model', async () => {
    const calls = fake.calls.length;
    await chat('/reset', false);
    expect(fake.calls.length).toBe(calls);
    await chat('A fresh question');
    const turns = fake.calls.at(-1)?.messages ?? [];
    expect(turns).toHaveLength(1);
    expect(turns[0]?.content).toMatch(/^Question: A fresh question/);
    expect(JSON.stringify(turns)).not.toContain('merge train');
    expect((await messages()).map((message) => message.content)).toContain('/reset');
  });

  it('marks feedback on an own message only', async () => {
    const history = await messages();
    const answer = history.find((message) => message.role === 'ASSISTANT');
    const feedback = /* GraphQL */ `mutation ($id: String!) { duoUserFeedback(input: { aiMessageId: $id }) { errors } }`;
    const marked = await graphqlRequest<{ duoUserFeedback: { errors: string[] } }>(runtime.baseUrl, feedback, {
      token: developer.token,
      variables: { id: answer?.id },
    });
    expect(marked.body.data?.duoUserFeedback.errors).toEqual([]);
    expect((await messages()).find((message) => message.id === answer?.id)?.extras.hasFeedback).toBe(true);
    const foreign = await graphqlRequest(runtime.baseUrl, feedback, {
      token: devToken('owner'),
      variables: { id: answer?.id },
    });
    expect(foreign.body.errors?.[0]?.message).toMatch(/does not exist or you don't have permission/);
  });

  it('/clear wipes the history without calling a model', async () => {
    const calls = fake.calls.length;
    await chat('/clear', false);
    expect(fake.calls.length).toBe(calls);
    expect(await messages()).toEqual([]);
  });

  it('keeps the last 50 messages and expires 3 days after the last one', async () => {
    const history = createChatHistory(redis, namespace.prefix);
    const message = (index: number): StoredAiMessage => ({
      id: `m-${index}`,
      requestId: `r-${index}`,
      content: index === 51 ? 'x'.repeat(25_000) : `message ${index}`,
      contentHtml: null,
      role: index % 2 ? 'user' : 'assistant',
      timestamp: new Date().toISOString(),
      errors: [],
      type: null,
      chunkId: null,
      extras: { sources: [], hasFeedback: false, status: null, model: null },
    });
    for (let index = 1; index <= 51; index += 1) await history.add(42, message(index));
    const stored = await history.messages(42);
    expect(stored).toHaveLength(chatHistoryLimits.maxMessages);
    expect(stored[0]?.id).toBe('m-2'); // the 51st evicted the first
    expect(stored.at(-1)?.content).toHaveLength(chatHistoryLimits.maxTextLength);
    const ttl = await redis.ttl(chatHistoryKey(namespace.prefix, 42));
    expect(ttl).toBeGreaterThan(chatHistoryLimits.expireSeconds - 5);
    expect(ttl).toBeLessThanOrEqual(chatHistoryLimits.expireSeconds);
  });

  it('records GitLab tracking events for an action, with the client from the User-Agent', async () => {
    const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
      runtime.baseUrl,
      'mutation { aiAction(input: { chat: { content: "tracked question" } }) { requestId } }',
      { token: developer.token, headers: { 'user-agent': 'gitlab-vscode-extension/5.1.0 VS Code/1.95.0' } },
    );
    const requestId = response.body.data?.aiAction.requestId;
    const query = '{ aiTrackingEvents(limit: 20) { category action label property userId client } }';
    let events: Record<string, unknown>[] = [];
    // Events are written in batches about once a second.
    for (let attempt = 0; attempt < 40 && !events.some((event) => event.property === requestId); attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const result = await graphqlRequest<{ aiTrackingEvents: Record<string, unknown>[] }>(runtime.baseUrl, query, {
        token: devToken('root'),
      });
      events = result.body.data?.aiTrackingEvents ?? [];
    }
    expect(events).toContainEqual({
      category: 'Llm::ExecuteMethodService',
      action: 'execute_llm_method',
      label: 'chat',
      property: 'success',
      userId: 3,
      client: 'vscode',
    });
    expect(events).toContainEqual({
      category: 'Llm::CompletionWorker',
      action: 'perform_completion_worker',
      label: 'chat',
      property: requestId,
      userId: 3,
      client: 'vscode',
    });
    const forbidden = await graphqlRequest(runtime.baseUrl, query, { token: developer.token });
    expect(forbidden.body.errors?.[0]?.message).toMatch(/don't have permission/);
  });
});
