import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import {
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  subscribeOverWebSocket,
  waitForSubscribers,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import {
  type OpenAICompatibleStandin,
  startOpenAICompatibleStandin,
} from '../helpers/standins/openai-compatible-standin.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';
import { type ModelWorkerProcess, spawnModelWorker } from '../model-worker/model-worker-harness.ts';

const namespace = createRedisNamespace();
let standin: OpenAICompatibleStandin;
let modelWorker: ModelWorkerProcess;
let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };

beforeAll(async () => {
  standin = await startOpenAICompatibleStandin();
  modelWorker = spawnModelWorker({
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: namespace.prefix,
    MODEL_SERVER_URL: `${standin.url}/v1`,
    MODEL_NAME: 'gpu-model',
    MODEL_WORKER_CONCURRENCY: '2',
  });
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: namespace.prefix,
    environment: {
      USE_FAKE_MODELS: 'false',
      SELF_HOSTED_VIA_MODEL_WORKER: 'true',
      SELF_HOSTED_MODEL_NAME: 'gpu-model',
    },
  });
  client = connectWebSocketClient(runtime.baseUrl, developer.token);
}, 60_000);

afterAll(async () => {
  await client.dispose();
  await runtime.close();
  await modelWorker.stop();
  await database.close();
  await standin.close();
  await namespace.cleanup();
});

describe('the self-hosted model through the GPU model worker', () => {
  it('answers a chat question with the API and worker reaching the model server only through Redis', async () => {
    const clientSubscriptionId = randomUUID();
    const collector = subscribeOverWebSocket(client, { userId: developer.gid, aiAction: 'CHAT', clientSubscriptionId });
    await waitForSubscribers(testRedisUrl, namespace.prefix, {
      userId: developer.gid,
      aiAction: 'chat',
      clientSubscriptionId,
    });
    const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
      runtime.baseUrl,
      'mutation ($id: String) { aiAction(input: { chat: { content: "Which GPU answers?" }, clientSubscriptionId: $id }) { requestId } }',
      { token: developer.token, variables: { id: clientSubscriptionId } },
    );
    const requestId = response.body.data?.aiAction.requestId as string;
    const final = await collector.waitFor(isFinalAnswer(requestId), 30_000);
    expect(final.extras).toMatchObject({ status: 'COMPLETED', model: 'self_hosted:gpu-model' });
    expect(collector.messages.filter((message) => message.chunkId !== null).length).toBeGreaterThan(0);
    const served = standin.requests.find((request) => request.path === '/v1/chat/completions');
    expect(JSON.stringify(served?.body)).toContain('Which GPU answers?');
  });
});
