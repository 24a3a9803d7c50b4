import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { issues } from '../../src/db/schema/issues.ts';
import { toGlobalId } from '../../src/gid.ts';
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
// guest: a guest of ultimate-org, who may read its non-confidential issues only.
const guest = { gid: toGlobalId('User', 4), token: devToken('guest') };
let database: DatabaseHandle;
let runtime: TestRuntime;
let client: Client;

beforeAll(async () => {
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: namespace.prefix,
    environment: { FAKE_MODEL_LATENCY_MS: '40', FAKE_MODEL_CHUNK_SIZE: '3' },
  });
  client = connectWebSocketClient(runtime.baseUrl, guest.token);
}, 60_000);

afterAll(async () => {
  await client.dispose();
  await runtime.close();
  await database.close();
  await namespace.cleanup();
});

describe('a subscription to a resource', () => {
  it('stops delivering the moment the resource is made confidential mid-stream', async () => {
    const resourceId = 'gid://gitlab/Issue/1';
    const clientSubscriptionId = randomUUID();
    const scoped = subscribeOverWebSocket(client, { userId: guest.gid, resourceId, clientSubscriptionId });
    await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: guest.gid, resourceId, clientSubscriptionId });
    const response = await graphqlRequest<{ aiAction: { requestId: string } }>(
      runtime.baseUrl,
      'mutation ($id: String) { aiAction(input: { chat: { content: "/explain a long piece of code that takes a while to explain", resourceId: "gid://gitlab/Issue/1" }, clientSubscriptionId: $id }) { requestId } }',
      { token: guest.token, variables: { id: clientSubscriptionId } },
    );
    const requestId = response.body.data?.aiAction.requestId as string;
    await scoped.waitFor((message) => message.requestId === requestId && message.chunkId === 3);
    await database.db.update(issues).set({ confidential: true }).where(eq(issues.id, 1));
    const deliveredAtFlip = scoped.messages.length;

    // The request itself runs to its end (the final message is what proves the stream went on)…
    const control = subscribeOverWebSocket(client, { userId: guest.gid, aiAction: 'CHAT' });
    await waitForSubscribers(testRedisUrl, namespace.prefix, { userId: guest.gid, aiAction: 'chat' });
    await control.waitFor(isFinalAnswer(requestId), 20_000);
    // …but the resource subscription got at most the chunk already on its way, and no final message.
    expect(scoped.messages.length).toBeLessThanOrEqual(deliveredAtFlip + 1);
    expect(scoped.messages.some(isFinalAnswer(requestId))).toBe(false);
    scoped.stop();
    control.stop();
  });
});
