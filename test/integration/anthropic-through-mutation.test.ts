import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { aiUsageDaily } from '../../src/db/schema/ai-usage.ts';
import { toGlobalId } from '../../src/gid.ts';
import { providerFailureMessage } from '../../src/workers/process-ai-action.ts';
import {
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { type AnthropicStandin, startAnthropicStandin } from '../helpers/standins/anthropic-standin.ts';
import {
  type OpenAICompatibleStandin,
  startOpenAICompatibleStandin,
} from '../helpers/standins/openai-compatible-standin.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';

const namespace = createRedisNamespace();
let standin: AnthropicStandin;
let selfHosted: OpenAICompatibleStandin;
let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };

async function ask(content: string, resourceId?: string) {
  const clientSubscriptionId = randomUUID();
  const collector = subscribeOverWebSocket(client, { userId: developer.gid, aiAction: 'CHAT', clientSubscriptionId });
  await waitForSubscribers(testRedisUrl, namespace.prefix, {
    userId: developer.gid,
    aiAction: 'chat',
    clientSubscriptionId,
  });
  const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
    runtime.baseUrl,
    'mutation ($content: String!, $id: String, $resourceId: AiModelID) { aiAction(input: { chat: { content: $content, resourceId: $resourceId }, clientSubscriptionId: $id }) { requestId } }',
    { token: developer.token, variables: { content, id: clientSubscriptionId, resourceId } },
  );
  const requestId = response.body.data?.aiAction.requestId as string;
  const final = await collector.waitFor(isFinalAnswer(requestId), 20_000);
  collector.stop();
  const chunks = collector.messages.filter((message) => message.chunkId !== null);
  return { final, chunks, all: collector.messages };
}

beforeAll(async () => {
  standin = await startAnthropicStandin();
  selfHosted = await startOpenAICompatibleStandin();
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: namespace.prefix,
    environment: {
      USE_FAKE_MODELS: 'false',
      ANTHROPIC_API_KEY: 'sk-ant-test',
      ANTHROPIC_BASE_URL: standin.url,
      // The stand-in's model switch: 200 numbered deltas.
      ANTHROPIC_MODEL: 'deltas-200',
      LLM_RETRY_INITIAL_DELAY_MS: '10',
      // A second provider: the fallback chain is anthropic → self_hosted.
      SELF_HOSTED_MODEL_URL: `${selfHosted.url}/v1`,
      SELF_HOSTED_MODEL_NAME: 'gpu-model',
    },
  });
  client = connectWebSocketClient(runtime.baseUrl, developer.token);
}, 60_000);

afterAll(async () => {
  await client.dispose();
  await runtime.close();
  await database.close();
  await standin.close();
  await selfHosted.close();
  await namespace.cleanup();
});

describe('chat through the real Anthropic SDK against the stand-in', () => {
  it('relays 200 deltas in order as chunks 1..200, then one final message naming the model', async () => {
    const { final, chunks, all } = await ask('Explain rebasing');
    expect(chunks).toHaveLength(200);
    expect(chunks.map((chunk) => chunk.chunkId)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    expect(final.content).toBe(chunks.map((chunk) => chunk.content).join(''));
    expect(final.extras).toMatchObject({ status: 'COMPLETED', model: 'anthropic:deltas-200' });
    expect(all.filter((message) => message.chunkId === null)).toHaveLength(1);
    const sent = standin.messageRequests().at(-1);
    expect(sent?.body).toMatchObject({ model: 'deltas-200', stream: true });
    expect(sent?.headers.authorization).toBe('Bearer sk-ant-test');
  });

  it('keeps per-user token totals in Postgres and shows the chain’s circuits to administrators', async () => {
    // The worker records usage just after it publishes the final message, so wait for the row.
    const chat = await vi.waitFor(
      async () => {
        const rows = await database.db.select().from(aiUsageDaily).where(eq(aiUsageDaily.userId, 3));
        const row = rows.find(
          (candidate) => candidate.feature === 'chat' && candidate.model === 'anthropic:deltas-200',
        );
        if (!row) throw new Error('no usage row yet');
        return row;
      },
      { timeout: 5_000, interval: 20 },
    );
    expect(chat.requests).toBeGreaterThanOrEqual(1);
    expect(chat.outputTokens).toBeGreaterThan(0);
    expect(chat.estimatedRequests).toBe(0); // the stand-in reports usage like the API does
    const circuits = await graphqlRequest<{ aiProviderCircuits: { name: string; state: string }[] }>(
      runtime.baseUrl,
      '{ aiProviderCircuits { name state } }',
      { token: devToken('root') },
    );
    expect(circuits.body.data?.aiProviderCircuits).toEqual([
      { name: 'anthropic:deltas-200', state: 'closed' },
      { name: 'self_hosted:gpu-model', state: 'closed' },
    ]);
    const forbidden = await graphqlRequest(runtime.baseUrl, '{ aiProviderCircuits { name } }', {
      token: developer.token,
    });
    expect(forbidden.body.errors?.[0]?.message).toMatch(/don't have permission/);
  });

  it('survives a 429 with retry-after and answers', async () => {
    standin.script.enqueue({
      kind: 'error',
      status: 429,
      errorType: 'rate_limit_error',
      headers: { 'retry-after-ms': '30' },
    });
    const before = standin.messageRequests().length;
    const { final } = await ask('Rate limited question');
    expect(final.extras.status).toBe('COMPLETED');
    expect(standin.messageRequests().length - before).toBe(2);
  });

  it('ends a stream cut after 50 deltas with one truthful error and no duplicated text', async () => {
    standin.script.enqueue({ kind: 'cut', afterDeltas: 50, deltaCount: 100 });
    // A slash command streams the model's text as it arrives, so the cut shows after 50 chunks.
    const { final, chunks } = await ask('/explain a question whose answer is cut off');
    expect(chunks).toHaveLength(50);
    expect(final.extras.status).toBe('ERROR');
    expect(final.errors).toEqual([providerFailureMessage]);
    expect(final.content).toBe(chunks.map((chunk) => chunk.content).join(''));
  });

  it("serves a group's feature setting: chat in ultimate-org goes to the self-hosted model", async () => {
    const setting = /* GraphQL */ `
      mutation ($provider: AiFeatureProvider, $model: String) {
        aiFeatureSettingUpdate(groupId: "gid://gitlab/Group/1", feature: CHAT, provider: $provider, model: $model) {
          feature provider model
        }
      }
    `;
    const refused = await graphqlRequest(runtime.baseUrl, setting, {
      token: developer.token,
      variables: { provider: 'SELF_HOSTED', model: 'gpu-model' },
    });
    expect(refused.body.errors?.[0]?.message).toMatch(/does not exist or you don't have permission/);
    const saved = await graphqlRequest<{ aiFeatureSettingUpdate: unknown }>(runtime.baseUrl, setting, {
      token: devToken('owner'),
      variables: { provider: 'SELF_HOSTED', model: 'gpu-model' },
    });
    expect(saved.body.data?.aiFeatureSettingUpdate).toEqual({
      feature: 'chat',
      provider: 'self_hosted',
      model: 'gpu-model',
    });
    // A flag on for the user travels with the job to the provider, as the AI gateway's header.
    await graphqlRequest(
      runtime.baseUrl,
      'mutation { featureFlagChange(name: "expanded_ai_logging", change: ENABLE, actor: "gid://gitlab/User/3") { name } }',
      { token: devToken('root') },
    );
    try {
      const inGroup = await ask('Where does this go?', 'gid://gitlab/Issue/1');
      expect(inGroup.final.extras).toMatchObject({ status: 'COMPLETED', model: 'self_hosted:gpu-model' });
      expect(selfHosted.requests.at(-1)?.headers['x-gitlab-enabled-feature-flags']).toBe('expanded_ai_logging');
      // Without a resource there is no group: the default chain (Anthropic) answers.
      const anywhere = await ask('And this?');
      expect(anywhere.final.extras.model).toBe('anthropic:deltas-200');
    } finally {
      await graphqlRequest(runtime.baseUrl, setting, { token: devToken('owner'), variables: { provider: null } });
      await graphqlRequest(
        runtime.baseUrl,
        'mutation { featureFlagChange(name: "expanded_ai_logging", change: REMOVE) { name } }',
        { token: devToken('root') },
      );
    }
    const reset = await ask('Back to the default?', 'gid://gitlab/Issue/1');
    expect(reset.final.extras.model).toBe('anthropic:deltas-200');
  });
});
