import { randomUUID } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import { aiActionQueueName, bullPrefix } from '../../src/workers/queues.ts';
import {
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
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;
let queueEvents: QueueEvents;
const stalled: string[] = [];

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: namespace.prefix,
    environment: {
      // A 4 s lock renewed every 2 s: a stream that outlives it by 30 times shows renewal works.
      WORKER_LOCK_DURATION_MS: '4000',
      // One character every 900 ms: the fake answer (about 146 characters) takes over two minutes.
      FAKE_MODEL_CHUNK_SIZE: '1',
      FAKE_MODEL_LATENCY_MS: '900',
    },
  });
  client = connectWebSocketClient(runtime.baseUrl, developer.token);
  queueEvents = new QueueEvents(aiActionQueueName, {
    connection: { url: testRedisUrl },
    prefix: bullPrefix(namespace.prefix),
  });
  queueEvents.on('stalled', ({ jobId }) => stalled.push(jobId));
  await queueEvents.waitUntilReady();
}, 60_000);

afterAll(async () => {
  await queueEvents?.close();
  await client?.dispose();
  await runtime?.close();
  await database?.close();
  await namespace.cleanup();
});

describe('a job that streams for two minutes', () => {
  it('keeps its BullMQ lock: never stalled, never re-run, one complete answer', async () => {
    const clientSubscriptionId = randomUUID();
    const collector = subscribeOverWebSocket(client, { userId: developer.gid, aiAction: 'CHAT', clientSubscriptionId });
    await waitForSubscribers(testRedisUrl, namespace.prefix, {
      userId: developer.gid,
      aiAction: 'chat',
      clientSubscriptionId,
    });
    const startedAt = Date.now();
    const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
      runtime.baseUrl,
      'mutation ($id: String) { aiAction(input: { chat: { content: "/explain x" }, clientSubscriptionId: $id }) { requestId } }',
      { token: developer.token, variables: { id: clientSubscriptionId } },
    );
    const requestId = response.body.data?.aiAction.requestId as string;
    const final = await collector.waitFor(isFinalAnswer(requestId), 200_000);
    const seconds = (Date.now() - startedAt) / 1_000;
    const chunks = collector.messages.filter((message) => message.requestId === requestId && message.chunkId !== null);
    console.log(
      `streamed ${chunks.length} chunks for ${seconds.toFixed(1)} s with a 4 s lock; stalled: ${stalled.length}`,
    );
    expect(seconds).toBeGreaterThan(120);
    expect(final.extras.status).toBe('COMPLETED');
    expect(chunks.map((chunk) => chunk.chunkId)).toEqual(chunks.map((_, index) => index + 1));
    expect(final.content).toBe(chunks.map((chunk) => chunk.content).join(''));
    expect(stalled).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(collector.messages.filter(isFinalAnswer(requestId))).toHaveLength(1);
    collector.stop();
  }, 240_000);
});
