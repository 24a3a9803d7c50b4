import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import { troubleshootElsewhereMessage } from '../../src/chat/slash-commands.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { trackingEvents } from '../../src/db/schema/tracking-events.ts';
import { toGlobalId } from '../../src/gid.ts';
import { createFakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import { agentTimeoutMessage } from '../../src/workers/process-ai-action.ts';
import {
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  type MessageCollector,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
// A question containing "timeout-me" times out at the provider, like GitLab's Net::ReadTimeout.
const fake = createFakeProvider({
  chunkSize: 6,
  failures: (request) =>
    request.messages.some((message) => message.content.includes('timeout-me')) ? { kind: 'timeout' } : undefined,
});
const providers: ProviderRegistry = { forFeature: () => fake, list: () => [fake] };
let database: DatabaseHandle;
let runtime: TestRuntime;
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
const owner = { gid: toGlobalId('User', 2), token: devToken('owner') };
let tabA: Client;
let tabB: Client;
let otherUser: Client;

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({ role: 'all', database, prefix: namespace.prefix, providers });
  // GitLab categorizes questions on GitLab.com only; this instance turns it on to test it.
  const enabled = await graphqlRequest(
    runtime.baseUrl,
    'mutation { featureFlagChange(name: "duo_chat_categorize_question", change: ENABLE) { enabled } }',
    { token: devToken('root') },
  );
  expect(enabled.body.errors).toBeUndefined();
  tabA = connectWebSocketClient(runtime.baseUrl, developer.token);
  tabB = connectWebSocketClient(runtime.baseUrl, developer.token);
  otherUser = connectWebSocketClient(runtime.baseUrl, owner.token);
}, 60_000);

afterAll(async () => {
  await Promise.all([tabA.dispose(), tabB.dispose(), otherUser.dispose()]);
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

/** A tab as GitLab's chat opens it: every chat message of the user, plus its own stream. */
async function openTab(client: Client, user: { gid: string }) {
  const clientSubscriptionId = randomUUID();
  const all = subscribeOverWebSocket(client, { userId: user.gid, aiAction: 'CHAT' });
  const own = subscribeOverWebSocket(client, { userId: user.gid, aiAction: 'CHAT', clientSubscriptionId });
  await waitForSubscribers(testRedisUrl, namespace.prefix, {
    userId: user.gid,
    aiAction: 'chat',
    clientSubscriptionId,
  });
  return { clientSubscriptionId, all, own };
}

async function send(input: Record<string, unknown>, clientSubscriptionId: string, token = developer.token) {
  const response = await graphqlRequest<{ aiAction: { requestId: string; errors: string[] } }>(
    runtime.baseUrl,
    'mutation ($input: AiActionInput!) { aiAction(input: $input) { requestId errors } }',
    { token, variables: { input: { ...input, clientSubscriptionId } } },
  );
  expect(response.body.errors).toBeUndefined();
  return response.body.data?.aiAction.requestId as string;
}

const ofRequest = (collector: MessageCollector, requestId: string) =>
  collector.messages.filter((message) => message.requestId === requestId);

describe('Duo Chat in two tabs', () => {
  it('syncs both tabs, streams chunks and tool notices to the asking tab only, and shows nothing to another user', async () => {
    const a = await openTab(tabA, developer);
    const b = await openTab(tabB, developer);
    const other = await openTab(otherUser, owner);

    const requestId = await send(
      { chat: { content: 'What is this issue about?', resourceId: 'gid://gitlab/Issue/1' } },
      a.clientSubscriptionId,
    );
    const finalInA = await a.own.waitFor(isFinalAnswer(requestId));
    await a.all.waitFor(isFinalAnswer(requestId));
    await b.all.waitFor(isFinalAnswer(requestId));

    // The asking tab's own stream: the tool notice, chunks 1..n in order, then the final message.
    const stream = ofRequest(a.own, requestId);
    const notice = stream.find((message) => message.type === 'TOOL');
    expect(notice).toMatchObject({ role: 'SYSTEM', content: 'Issue Search', chunkId: null });
    const chunks = stream.filter((message) => message.chunkId !== null);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.map((chunk) => chunk.chunkId)).toEqual(chunks.map((_, index) => index + 1));
    expect(chunks.every((chunk) => chunk.contentHtml === null)).toBe(true);
    expect(stream.indexOf(notice as never)).toBeLessThan(stream.indexOf(chunks[0] as never));
    expect(chunks.map((chunk) => chunk.content).join('')).toBe(finalInA.content);
    expect(finalInA.content).toContain('From IssueReader');
    expect(finalInA.contentHtml).toContain('<strong>Fake model answer.</strong>');

    // Both tabs see the question and the final answer, and nothing else.
    for (const tab of [a.all, b.all]) {
      const seen = ofRequest(tab, requestId);
      expect(seen.map((message) => message.role)).toEqual(['USER', 'ASSISTANT']);
      expect(seen[0]?.content).toBe('What is this issue about?');
      expect(seen[1]?.id).toBe(finalInA.id);
    }
    expect(ofRequest(b.own, requestId)).toEqual([]);
    expect(other.all.messages).toEqual([]);
    expect(other.own.messages).toEqual([]);

    // History keeps the question and the answer: no chunks, no tool notice.
    const history = await graphqlRequest<{ aiMessages: { nodes: { role: string; content: string }[] } }>(
      runtime.baseUrl,
      `query { aiMessages(requestIds: ["${requestId}"]) { nodes { role content } } }`,
      { token: developer.token },
    );
    expect(history.body.data?.aiMessages.nodes.map((message) => message.role)).toEqual(['USER', 'ASSISTANT']);
    for (const collector of [a.all, a.own, b.all, b.own, other.all, other.own]) collector.stop();

    // GitLab's tracking: the tool used, then the question's category from the internal follow-up job.
    const events = await vi.waitFor(
      async () => {
        const rows = await database.db.select().from(trackingEvents).where(eq(trackingEvents.property, requestId));
        if (!rows.some((row) => row.action === 'ai_question_category')) throw new Error('not categorized yet');
        return rows;
      },
      { timeout: 10_000, interval: 100 },
    );
    expect(events).toContainEqual(
      expect.objectContaining({ action: 'process_gitlab_duo_question', label: 'IssueReader', value: 1, userId: 3 }),
    );
    expect(events).toContainEqual(
      expect.objectContaining({ action: 'ai_question_category', label: 'Explain something besides code', userId: 3 }),
    );
    // The categorization's answer is for us: nothing of it reached the user's subscriptions.
    expect(a.all.messages.filter((message) => message.requestId === requestId)).toHaveLength(2);
  });

  it('runs slash commands without the agent: /explain with the selected code and its language', async () => {
    const a = await openTab(tabA, developer);
    const calls = fake.calls.length;
    const requestId = await send(
      {
        chat: {
          content: '/explain the loop',
          currentFile: { fileName: 'src/sum.py', selectedText: 'for x in xs:\n    total += x' },
        },
      },
      a.clientSubscriptionId,
    );
    const final = await a.own.waitFor(isFinalAnswer(requestId));
    expect(final.extras.status).toBe('COMPLETED');
    expect(fake.calls.length).toBe(calls + 1);
    const request = fake.calls.at(-1);
    expect(request?.system).not.toContain('Begin!');
    expect(request?.messages[0]?.content).toContain('The code is written in Python and stored as src/sum.py.');
    expect(request?.messages[0]?.content).toContain('<selected_code>\nfor x in xs:\n    total += x\n</selected_code>');
    expect(request?.messages[0]?.content).toContain('Explain the loop in the code in <selected_code> tags.');
    expect(ofRequest(a.own, requestId).some((message) => message.type === 'TOOL')).toBe(false);
    a.all.stop();
    a.own.stop();
  });

  it('answers /help and a misplaced /troubleshoot without a model, and sends an unknown /command to the agent', async () => {
    const a = await openTab(tabA, developer);
    const calls = fake.calls.length;
    const help = await send({ chat: { content: '/help' } }, a.clientSubscriptionId);
    const helpFinal = await a.own.waitFor(isFinalAnswer(help));
    expect(helpFinal.content).toContain('`/troubleshoot`: Troubleshoot a job based on the logs.');
    const troubleshoot = await send({ chat: { content: '/troubleshoot' } }, a.clientSubscriptionId);
    expect((await a.own.waitFor(isFinalAnswer(troubleshoot))).content).toBe(troubleshootElsewhereMessage);
    expect(fake.calls.length).toBe(calls);
    const unknown = await send({ chat: { content: '/frobnicate the widget' } }, a.clientSubscriptionId);
    await a.own.waitFor(isFinalAnswer(unknown));
    expect(fake.calls.findLast((call) => call.messages.at(-1)?.content.includes('/frobnicate'))?.system).toContain(
      'Begin!',
    );
    a.all.stop();
    a.own.stop();
  });

  it('/troubleshoot on a failed job sends its log to the model', async () => {
    const a = await openTab(tabA, developer);
    const requestId = await send(
      { chat: { content: '/troubleshoot focus on the database', resourceId: 'gid://gitlab/Ci::Build/1' } },
      a.clientSubscriptionId,
    );
    await a.own.waitFor(isFinalAnswer(requestId));
    // Found by content: a categorization of an earlier question may have been the model's latest call.
    const prompt =
      fake.calls.findLast((call) => call.messages[0]?.content.includes('User input: focus'))?.messages[0]?.content ??
      '';
    expect(prompt).toContain('rspec 1/2');
    expect(prompt).toContain('User input: focus on the database');
    a.all.stop();
    a.own.stop();
  });

  it("answers a model timeout with GitLab's words", async () => {
    const a = await openTab(tabA, developer);
    const requestId = await send({ chat: { content: 'timeout-me please' } }, a.clientSubscriptionId);
    const final = await a.own.waitFor(isFinalAnswer(requestId), 20_000);
    expect(final.extras.status).toBe('ERROR');
    expect(final.errors).toEqual([agentTimeoutMessage]);
    a.all.stop();
    a.own.stop();
  }, 30_000);
});
