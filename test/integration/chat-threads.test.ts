import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { AiMessage as StoredAiMessage } from '../../src/ai-message.ts';
import { chatHistoryKey } from '../../src/chat/chat-history.ts';
import {
  addChatThreadMessage,
  chatThreadLimits,
  chatThreadMessages,
  createChatThread,
  deleteExpiredChatThreads,
  threadNotFoundMessage,
} from '../../src/chat/chat-threads.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { aiConversationMessages, aiConversationThreads } from '../../src/db/schema/ai-conversation-threads.ts';
import { toGlobalId } from '../../src/gid.ts';
import { createFakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import type { LlmMessage } from '../../src/llm/types.ts';
import { aiActionQueueName, bullPrefix } from '../../src/workers/queues.ts';
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
const owner = { id: 2, token: devToken('owner') };
const dayMilliseconds = 24 * 60 * 60 * 1_000;

const aiActionMutation = /* GraphQL */ `
  mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId threadId errors } }
`;
const messagesQuery = /* GraphQL */ `
  query ($threadId: AiConversationThreadID, $conversationType: AiConversationsThreadsConversationType, $roles: [AiMessageRole!]) {
    aiMessages(threadId: $threadId, conversationType: $conversationType, roles: $roles) {
      nodes { id requestId content contentHtml role extras { hasFeedback } }
    }
  }
`;
const threadsQuery = /* GraphQL */ `
  query ($conversationType: AiConversationsThreadsConversationType) {
    aiConversationThreads(conversationType: $conversationType) {
      nodes { id conversationType title createdAt lastUpdatedAt }
    }
  }
`;

interface ThreadNode {
  id: string;
  conversationType: string;
  title: string | null;
  createdAt: string;
  lastUpdatedAt: string;
}

function threadGid(id: number): string {
  return toGlobalId('Ai::Conversation::Thread', id);
}

async function messages(variables: Record<string, unknown> = {}, token = developer.token) {
  return graphqlRequest<{ aiMessages: { nodes: AiMessage[] } }>(runtime.baseUrl, messagesQuery, { token, variables });
}

async function threadMessages(threadId: string, variables: Record<string, unknown> = {}): Promise<AiMessage[]> {
  const response = await messages({ threadId, ...variables });
  expect(response.body.errors).toBeUndefined();
  return response.body.data?.aiMessages.nodes ?? [];
}

async function threads(token = developer.token, variables: Record<string, unknown> = {}): Promise<ThreadNode[]> {
  const response = await graphqlRequest<{ aiConversationThreads: { nodes: ThreadNode[] } }>(
    runtime.baseUrl,
    threadsQuery,
    { token, variables },
  );
  expect(response.body.errors).toBeUndefined();
  return response.body.data?.aiConversationThreads.nodes ?? [];
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * Sends a chat message with the given thread fields and waits for its answer (unless it is a command that
 * gets none) and for the answer to be stored, so the next question sees it.
 */
async function chat(
  content: string,
  thread: { threadId?: string; conversationType?: string } = {},
  expectAnswer = true,
): Promise<{ requestId: string; threadId: string | null }> {
  const collector = subscribeOverWebSocket(client, { userId: developer.gid, aiAction: 'CHAT' });
  await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: developer.gid, aiAction: 'chat' });
  const response = await graphqlRequest<{ aiAction: { requestId: string; threadId: string | null } }>(
    runtime.baseUrl,
    aiActionMutation,
    {
      token: developer.token,
      variables: { input: { chat: { content }, clientSubscriptionId: randomUUID(), ...thread } },
    },
  );
  expect(response.body.errors).toBeUndefined();
  const payload = response.body.data?.aiAction;
  if (!payload) throw new Error(`aiAction failed: ${JSON.stringify(response.body)}`);
  const { requestId, threadId } = payload;
  await collector.waitFor((message) => message.requestId === requestId && message.role === 'USER');
  if (expectAnswer) {
    const final = await collector.waitFor(isFinalAnswer(requestId));
    // The final message is published and stored in parallel; wait until the store has it too.
    if (threadId)
      await until(
        () => threadMessages(threadId),
        (stored) => stored.some(({ id }) => id === final.id),
      );
  }
  collector.stop();
  return { requestId, threadId };
}

/** The model call that answered `question` (other calls, e.g. question categorization, may follow it). */
function turnsSentFor(question: string): LlmMessage[] {
  const call = fake.calls.findLast((request) => request.messages.at(-1)?.content.includes(`Question: ${question}`));
  expect(call, `a model call for ${question}`).toBeDefined();
  return call?.messages ?? [];
}

/** `chat` jobs ever added to the queue, from BullMQ's event stream (completed jobs are removed at once). */
async function chatJobsAdded(): Promise<number> {
  const entries = await redis.xrange(`${bullPrefix(namespace.prefix)}:${aiActionQueueName}:events`, '-', '+');
  return entries.filter(([, fields]) => {
    const record = Object.fromEntries(
      fields.flatMap((field, index) => (index % 2 ? [] : [[field, fields[index + 1]]])),
    );
    return record.event === 'added' && record.name === 'chat';
  }).length;
}

function storedMessage(content: string, role: StoredAiMessage['role'] = 'user'): StoredAiMessage {
  return {
    id: randomUUID(),
    requestId: randomUUID(),
    content,
    contentHtml: null,
    role,
    timestamp: new Date().toISOString(),
    errors: [],
    type: null,
    chunkId: null,
    extras: { sources: [], hasFeedback: false, status: null, model: null },
  };
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

describe('conversation threads', () => {
  let firstThread: string;

  it('starts a thread with conversationType, continues it with threadId, and reads it oldest first', async () => {
    const first = await chat('What is a merge train?', { conversationType: 'DUO_CHAT' });
    expect(first.threadId).toMatch(/^gid:\/\/gitlab\/Ai::Conversation::Thread\/\d+$/);
    firstThread = first.threadId as string;
    const second = await chat('And how do I enable it?', { threadId: firstThread });
    expect(second.threadId).toBe(firstThread);

    const stored = await threadMessages(firstThread);
    expect(stored.map((message) => message.role)).toEqual(['USER', 'ASSISTANT', 'USER', 'ASSISTANT']);
    expect(stored.map((message) => message.requestId)).toEqual([
      first.requestId,
      first.requestId,
      second.requestId,
      second.requestId,
    ]);
    expect(stored[0]?.content).toBe('What is a merge train?');
    expect(stored[2]?.content).toBe('And how do I enable it?');
    expect(stored[1]?.contentHtml).toContain('<strong>Fake model answer.</strong>');
    expect((await threadMessages(firstThread, { roles: ['USER'] })).map((message) => message.content)).toEqual([
      'What is a merge train?',
      'And how do I enable it?',
    ]);
    // Without threadId but with a conversation type: the most recently active thread of that type.
    const latest = await messages({ conversationType: 'DUO_CHAT' });
    expect(latest.body.data?.aiMessages.nodes.map((message) => message.id)).toEqual(stored.map(({ id }) => id));

    // The second question's prompt carries the first exchange of the thread.
    const turns = turnsSentFor('And how do I enable it?');
    expect(turns[0]).toEqual({ role: 'user', content: 'What is a merge train?' });
    expect(turns[1]?.role).toBe('assistant');
    expect(turns[1]?.content).toMatch(/^\*\*Fake model answer\.\*\*/);
    expect(turns).toHaveLength(3);
  });

  it('keeps thread messages out of the Redis stream, and stream chats out of threads', async () => {
    // No dual write: the thread is the only store of its messages.
    expect(await redis.xlen(chatHistoryKey(namespace.prefix, developer.id))).toBe(0);
    expect((await messages()).body.data?.aiMessages.nodes).toEqual([]);

    const streamed = await chat('A question without a thread');
    expect(streamed.threadId).toBeNull();
    const turns = turnsSentFor('A question without a thread');
    expect(turns).toHaveLength(1);
    expect(JSON.stringify(turns)).not.toContain('merge train');
    const stream = await until(
      async () => (await messages()).body.data?.aiMessages.nodes ?? [],
      (nodes) => nodes.length === 2,
    );
    expect(stream.map((message) => message.content)[0]).toBe('A question without a thread');
    expect(await threadMessages(firstThread)).toHaveLength(4);
  });

  it("lists only the caller's own live threads, most recent activity first, titled by the first question", async () => {
    const ownerThread = await createChatThread(database.db, { userId: owner.id, conversationType: 'duo_chat' });
    const quiet = await createChatThread(database.db, { userId: developer.id, conversationType: 'duo_quick_chat' });
    await database.db
      .update(aiConversationThreads)
      .set({ lastUpdatedAt: new Date(Date.now() - 60_000) })
      .where(eq(aiConversationThreads.id, quiet.id));

    const listed = await threads();
    expect(listed.map((thread) => thread.id)).toEqual([firstThread, threadGid(quiet.id)]);
    expect(listed[0]).toMatchObject({ conversationType: 'DUO_CHAT', title: 'What is a merge train?' });
    expect(Date.parse(listed[0]?.lastUpdatedAt ?? '')).toBeGreaterThan(Date.parse(listed[0]?.createdAt ?? ''));
    expect(listed[1]).toMatchObject({ conversationType: 'DUO_QUICK_CHAT', title: null });
    expect((await threads(developer.token, { conversationType: 'DUO_QUICK_CHAT' })).map(({ id }) => id)).toEqual([
      threadGid(quiet.id),
    ]);
    expect((await threads(owner.token)).map((thread) => thread.id)).toEqual([threadGid(ownerThread.id)]);
    const anonymous = await graphqlRequest<{ aiConversationThreads: { nodes: unknown[] } }>(
      runtime.baseUrl,
      threadsQuery,
    );
    expect(anonymous.body.data?.aiConversationThreads.nodes).toEqual([]);
  });

  it("refuses another user's thread on aiAction and aiMessages, enqueueing and storing nothing", async () => {
    const ownerThread = await createChatThread(database.db, { userId: owner.id, conversationType: 'duo_chat' });
    await addChatThreadMessage(database.db, {
      userId: owner.id,
      threadId: ownerThread.id,
      message: storedMessage("The owner's secret question"),
    });
    const jobsBefore = await chatJobsAdded();
    expect(jobsBefore).toBeGreaterThan(0); // the counter sees the chats of the tests above
    const callsBefore = fake.calls.length;

    for (const threadId of [threadGid(ownerThread.id), threadGid(999_999)]) {
      const refused = await graphqlRequest<{ aiAction: unknown }>(runtime.baseUrl, aiActionMutation, {
        token: developer.token,
        variables: { input: { chat: { content: 'Let me in' }, threadId } },
      });
      expect(refused.body.data?.aiAction ?? null).toBeNull();
      expect(refused.body.errors?.[0]?.message).toBe(threadNotFoundMessage);
      const read = await messages({ threadId });
      expect(read.body.data?.aiMessages ?? null).toBeNull();
      expect(read.body.errors?.[0]?.message).toBe(threadNotFoundMessage);
    }
    // A different type of global id is refused by the scalar.
    const wrongType = await messages({ threadId: 'gid://gitlab/Issue/1' });
    expect(wrongType.body.errors?.[0]?.message).toMatch(/does not represent an instance of Ai::Conversation::Thread/);

    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await chatJobsAdded()).toBe(jobsBefore);
    expect(fake.calls.length).toBe(callsBefore);
    const ownerMessages = await chatThreadMessages(database.db, { userId: owner.id, threadId: ownerThread.id });
    expect(ownerMessages?.map((message) => message.content)).toEqual(["The owner's secret question"]);
    expect(await redis.xlen(chatHistoryKey(namespace.prefix, developer.id))).toBe(2);
    // The owner reads their own thread; the developer's store functions see nothing of it.
    expect(await chatThreadMessages(database.db, { userId: developer.id, threadId: ownerThread.id })).toBeUndefined();
    expect(
      await addChatThreadMessage(database.db, {
        userId: developer.id,
        threadId: ownerThread.id,
        message: storedMessage('injected'),
      }),
    ).toBe(false);
  });

  it('marks feedback on a message of an own thread only', async () => {
    const answer = (await threadMessages(firstThread)).find((message) => message.role === 'ASSISTANT');
    const feedback = /* GraphQL */ `mutation ($id: String!) { duoUserFeedback(input: { aiMessageId: $id }) { errors } }`;
    const foreign = await graphqlRequest(runtime.baseUrl, feedback, {
      token: owner.token,
      variables: { id: answer?.id },
    });
    expect(foreign.body.errors?.[0]?.message).toMatch(/does not exist or you don't have permission/);
    const marked = await graphqlRequest<{ duoUserFeedback: { errors: string[] } }>(runtime.baseUrl, feedback, {
      token: developer.token,
      variables: { id: answer?.id },
    });
    expect(marked.body.data?.duoUserFeedback.errors).toEqual([]);
    const after = await threadMessages(firstThread);
    expect(after.find((message) => message.id === answer?.id)?.extras.hasFeedback).toBe(true);
    expect(after.filter((message) => message.extras.hasFeedback)).toHaveLength(1);
  });

  it('/reset is stored in the thread as a boundary and calls no model', async () => {
    const calls = fake.calls.length;
    const reset = await chat('/reset', { threadId: firstThread }, false);
    expect(reset.threadId).toBe(firstThread);
    expect(fake.calls.length).toBe(calls);
    await chat('A question after the reset', { threadId: firstThread });
    const turns = turnsSentFor('A question after the reset');
    expect(turns).toHaveLength(1);
    expect(JSON.stringify(turns)).not.toContain('merge train');
    const contents = (await threadMessages(firstThread)).map((message) => message.content);
    expect(contents).toContain('/reset');
    expect(contents[0]).toBe('What is a merge train?');
  });

  it('/clear on a thread starts a new thread without the old messages and calls no model', async () => {
    const calls = fake.calls.length;
    const cleared = await chat('/clear', { threadId: firstThread }, false);
    expect(fake.calls.length).toBe(calls);
    expect(cleared.threadId).toMatch(/^gid:\/\/gitlab\/Ai::Conversation::Thread\/\d+$/);
    expect(cleared.threadId).not.toBe(firstThread);
    const newThread = cleared.threadId as string;
    expect(await threadMessages(newThread)).toEqual([]);
    // The old thread keeps its messages until it expires (GitLab's `to_new_thread!`).
    expect((await threadMessages(firstThread)).map((message) => message.content)).toContain('What is a merge train?');

    await chat('A question in the new thread', { threadId: newThread });
    expect(turnsSentFor('A question in the new thread')).toHaveLength(1);
    expect((await threadMessages(newThread)).map((message) => message.content)).toEqual([
      'A question in the new thread',
      expect.stringMatching(/^\*\*Fake model answer\.\*\*/),
    ]);
    const listed = await threads();
    expect(listed[0]).toMatchObject({ id: newThread, title: 'A question in the new thread' });
    expect(listed.map((thread) => thread.id)).toContain(firstThread);
  });

  it('deletes threads after 30 days without activity and keeps younger ones', async () => {
    const stale = await createChatThread(database.db, { userId: developer.id, conversationType: 'duo_chat' });
    const young = await createChatThread(database.db, { userId: developer.id, conversationType: 'duo_chat' });
    await addChatThreadMessage(database.db, {
      userId: developer.id,
      threadId: stale.id,
      message: storedMessage('old'),
    });
    await addChatThreadMessage(database.db, {
      userId: developer.id,
      threadId: young.id,
      message: storedMessage('recent'),
    });
    const ageBy = async (threadId: number, days: number) =>
      database.db
        .update(aiConversationThreads)
        .set({ lastUpdatedAt: new Date(Date.now() - days * dayMilliseconds) })
        .where(eq(aiConversationThreads.id, threadId));
    await ageBy(stale.id, 31);
    await ageBy(young.id, 29);

    // Expired threads are invisible at once, before any sweep.
    const visible = (await threads()).map((thread) => thread.id);
    expect(visible).not.toContain(threadGid(stale.id));
    expect(visible).toContain(threadGid(young.id));
    expect((await messages({ threadId: threadGid(stale.id) })).body.errors?.[0]?.message).toBe(threadNotFoundMessage);

    expect(await deleteExpiredChatThreads(database.db)).toBe(1);
    const remaining = await database.db
      .select({ id: aiConversationThreads.id })
      .from(aiConversationThreads)
      .where(eq(aiConversationThreads.userId, developer.id));
    expect(remaining.map((row) => row.id)).toContain(young.id);
    expect(remaining.map((row) => row.id)).not.toContain(stale.id);
    // Its messages went with it (ON DELETE CASCADE).
    expect(
      await database.db.select().from(aiConversationMessages).where(eq(aiConversationMessages.threadId, stale.id)),
    ).toEqual([]);
    expect((await threadMessages(threadGid(young.id))).map((message) => message.content)).toEqual(['recent']);
  });

  it('truncates content like the stream, keeps the 50 most recent messages, and titles by the first question', async () => {
    const thread = await createChatThread(database.db, { userId: developer.id, conversationType: 'duo_chat' });
    const add = (message: StoredAiMessage) =>
      addChatThreadMessage(database.db, { userId: developer.id, threadId: thread.id, message });
    await add(storedMessage('/reset'));
    await add(storedMessage('y'.repeat(25_000)));
    for (let index = 1; index <= 50; index += 1) await add(storedMessage(`message ${index}`, 'assistant'));
    const stored = await chatThreadMessages(database.db, { userId: developer.id, threadId: thread.id });
    expect(stored).toHaveLength(chatThreadLimits.maxMessages);
    expect(stored?.[0]?.content).toBe('message 1');
    expect(stored?.at(-1)?.content).toBe('message 50');
    const [row] = await database.db
      .select({ content: aiConversationMessages.content })
      .from(aiConversationMessages)
      .where(eq(aiConversationMessages.threadId, thread.id))
      .orderBy(aiConversationMessages.id)
      .limit(1)
      .offset(1);
    expect(row?.content).toHaveLength(chatThreadLimits.maxTextLength);
    const [titled] = await database.db
      .select({ title: aiConversationThreads.title })
      .from(aiConversationThreads)
      .where(eq(aiConversationThreads.id, thread.id));
    // `/reset` names nothing; the first question does, cut to 255 characters.
    expect(titled?.title).toBe('y'.repeat(chatThreadLimits.maxTitleLength));
  });

  it('refuses threads for actions without a chat history', async () => {
    const response = await graphqlRequest(runtime.baseUrl, aiActionMutation, {
      token: developer.token,
      variables: {
        input: {
          explainCode: { resourceId: 'gid://gitlab/Project/1', messages: [{ role: 'user', content: 'x = 1' }] },
          conversationType: 'DUO_CHAT',
        },
      },
    });
    expect(response.body.errors?.[0]?.message).toMatch(/only accepted by actions with a chat history/);
  });
});
