import { randomUUID } from 'node:crypto';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import { toGlobalId } from '../../src/gid.ts';
import { channelFor } from '../../src/pubsub.ts';
import { interruptedMessage } from '../../src/workers/settle-before-start.ts';
import {
  type AiMessage,
  connectWebSocketClient,
  graphqlRequest,
  isFinalAnswer,
  type MessageCollector,
  subscribeOverWebSocket,
} from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { type ServiceProcess, startServiceProcess } from '../helpers/service-process.ts';
import { type ServedDatabase, serveSeededDatabase } from '../helpers/test-database.ts';

/*
 * The production shape in miniature: two API processes and two worker processes sharing one Redis and one
 * database (PGlite served over the Postgres wire protocol). 200 clients, each subscribed on one API and sending its
 * questions to the other, so every answer crosses processes through Redis. A worker is killed with SIGKILL while
 * answers stream; its jobs are re-run by the other worker once their BullMQ lock expires.
 */

const clientCount = 200;
const questionsPerClient = 2;
/**
 * The worker is killed well into the run (this many answers arrived) at a moment when at least
 * `killWhileStreaming` answers are streaming, so some of its jobs are surely cut mid-stream.
 */
const killAfterFinals = 60;
const killWhileStreaming = 20;
/** Short locks, so the killed worker's jobs are re-run after seconds instead of BullMQ's 30 s. */
const lockDurationMs = 4_000;
/** Longest a client waits for one final message: queueing behind 400 requests plus the lock expiring. */
const finalTimeoutMs = 60_000;

const namespace = createRedisNamespace();
const users = [
  { gid: toGlobalId('User', 3), token: devToken('developer') },
  { gid: toGlobalId('User', 2), token: devToken('owner') },
  { gid: toGlobalId('User', 4), token: devToken('guest') },
];
let database: ServedDatabase;
let apis: ServiceProcess[] = [];
let workers: ServiceProcess[] = [];
const sockets: Client[] = [];

const chatMutation = /* GraphQL */ `
  mutation ($content: String!, $clientSubscriptionId: String) {
    aiAction(input: { chat: { content: $content }, clientSubscriptionId: $clientSubscriptionId }) { requestId errors }
  }
`;

beforeAll(async () => {
  database = await serveSeededDatabase();
  const environment = {
    DATABASE_URL: database.url,
    // Four processes with ten connections each, well under the served database's 100.
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: namespace.prefix,
    REDIS_AUTOSTART: 'false',
    PORT: '0',
    METRICS_PORT: '0',
    AI_ACTION_RATE_LIMIT: '0',
    DOCS_SEARCH_ENABLED: 'false',
    WORKER_LOCK_DURATION_MS: String(lockDurationMs),
    // About 20 chunks 40 ms apart: most of a second per answer, so a kill lands in the middle of many streams.
    FAKE_MODEL_LATENCY_MS: '40',
    FAKE_MODEL_CHUNK_SIZE: '10',
  };
  const started = await Promise.all([
    startServiceProcess('src/start-api.ts', environment, 120_000),
    startServiceProcess('src/start-api.ts', environment, 120_000),
    startServiceProcess('src/start-worker.ts', environment, 120_000),
    startServiceProcess('src/start-worker.ts', environment, 120_000),
  ]);
  apis = started.slice(0, 2);
  workers = started.slice(2);
}, 180_000);

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.dispose()));
  // The killed worker is already gone (stop() waits for an exit that happened); the others get SIGTERM.
  const running = [...apis, ...workers].filter((service) => service.child.signalCode === null);
  const exitCodes = await Promise.all(running.map((service) => service.stop()));
  await database?.stop();
  await namespace.cleanup();
  // The survivors shut down gracefully.
  expect(exitCodes.every((code) => code === 0)).toBe(true);
}, 60_000);

interface ScaleClient {
  index: number;
  user: (typeof users)[number];
  clientSubscriptionId: string;
  subscribeUrl: string;
  mutateUrl: string;
  collector: MessageCollector;
  requestIds: string[];
}

/** Waits until every channel has a subscriber: one NUMSUB round trip for all of them. */
async function waitForChannels(channels: string[], timeoutMs = 30_000): Promise<void> {
  const redis = new Redis(testRedisUrl);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      const reply = (await redis.pubsub('NUMSUB', ...channels)) as (string | number)[];
      const missing = channels.filter((_, index) => Number(reply[index * 2 + 1]) < 1);
      if (missing.length === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('not every client subscription reached Redis');
  } finally {
    redis.disconnect();
  }
}

type Outcome = 'completed' | 'interrupted' | 'other' | 'lost';

function classify(final: AiMessage | undefined): Outcome {
  if (!final) return 'lost';
  if (final.extras.status === 'COMPLETED' && final.errors.length === 0) return 'completed';
  if (final.extras.status === 'ERROR' && final.errors.join() === interruptedMessage) return 'interrupted';
  return 'other';
}

function percentile(values: number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

describe('scale-out: two APIs and two workers on one Redis and one database', () => {
  it(`serves ${clientCount} clients across both APIs, each gets exactly its own answers, and a SIGKILLed worker loses none`, async () => {
    const apiUrls = apis.map((api) => `http://127.0.0.1:${api.port}`);
    const clients: ScaleClient[] = Array.from({ length: clientCount }, (_, index) => {
      const user = users[index % users.length] as (typeof users)[number];
      const subscribeUrl = apiUrls[index % 2] as string;
      const socket = connectWebSocketClient(subscribeUrl, user.token);
      sockets.push(socket);
      const clientSubscriptionId = randomUUID();
      return {
        index,
        user,
        clientSubscriptionId,
        subscribeUrl,
        mutateUrl: apiUrls[(index + 1) % 2] as string,
        collector: subscribeOverWebSocket(socket, { userId: user.gid, aiAction: 'CHAT', clientSubscriptionId }),
        requestIds: [],
      };
    });
    await waitForChannels(
      clients.map((client) =>
        channelFor(namespace.prefix, {
          userId: client.user.gid,
          aiAction: 'chat',
          clientSubscriptionId: client.clientSubscriptionId,
        }),
      ),
    );

    const startedAt = Date.now();
    let finals = 0;
    let killedAt: number | undefined;
    let streamingAtKill = 0;
    /** Requests whose first chunk arrived and whose final message did not yet. */
    const streaming = new Set<string>();
    const killWhenMidStream = () => {
      if (killedAt !== undefined || finals < killAfterFinals || streaming.size < killWhileStreaming) return;
      killedAt = Date.now() - startedAt;
      streamingAtKill = streaming.size;
      workers[0]?.child.kill('SIGKILL');
    };
    for (const client of clients) {
      const push = client.collector.push.bind(client.collector);
      client.collector.push = (message) => {
        if (message.chunkId === 1) streaming.add(message.requestId);
        if (message.chunkId === null && message.role === 'ASSISTANT') streaming.delete(message.requestId);
        push(message);
        killWhenMidStream();
      };
    }
    const latencies: number[] = [];
    const outcomes = new Map<string, { client: ScaleClient; question: string; final?: AiMessage }>();
    const refusals: string[] = [];

    async function runClient(client: ScaleClient): Promise<void> {
      for (let turn = 1; turn <= questionsPerClient; turn++) {
        const question = `Tell me a story, client ${client.index} turn ${turn}`;
        const sentAt = Date.now();
        const response = await graphqlRequest<{ aiAction: { requestId: string; errors: string[] } }>(
          client.mutateUrl,
          chatMutation,
          {
            token: client.user.token,
            variables: { content: question, clientSubscriptionId: client.clientSubscriptionId },
          },
        );
        const requestId = response.body.data?.aiAction.requestId;
        if (!requestId || response.body.errors) {
          refusals.push(JSON.stringify(response.body.errors ?? response.body.data));
          continue;
        }
        client.requestIds.push(requestId);
        const record: { client: ScaleClient; question: string; final?: AiMessage } = { client, question };
        outcomes.set(requestId, record);
        record.final = await client.collector.waitFor(isFinalAnswer(requestId), finalTimeoutMs).catch(() => undefined);
        if (!record.final) continue;
        latencies.push(Date.now() - sentAt);
        finals += 1;
      }
    }
    await Promise.all(clients.map(runClient));
    const elapsedMs = Date.now() - startedAt;
    // Anything still in flight on a subscription (a late duplicate) would arrive now.
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const tally: Record<Outcome, number> = { completed: 0, interrupted: 0, other: 0, lost: 0 };
    let duplicatedFinals = 0;
    let foreignMessages = 0;
    let brokenStreams = 0;
    let wrongAnswers = 0;
    for (const client of clients) {
      const own = new Set(client.requestIds);
      foreignMessages += client.collector.messages.filter((message) => !own.has(message.requestId)).length;
    }
    for (const [requestId, { client, question, final }] of outcomes) {
      const outcome = classify(final);
      tally[outcome] += 1;
      const messages = client.collector.messages.filter((message) => message.requestId === requestId);
      const distinctFinals = new Set(messages.filter(isFinalAnswer(requestId)).map((message) => message.id));
      if (distinctFinals.size > 1) duplicatedFinals += 1;
      const chunks = messages.filter((message) => message.chunkId !== null);
      const inOrder = chunks.every((chunk, index) => chunk.chunkId === index + 1);
      if (outcome === 'completed') {
        if (!final?.content.includes(question)) wrongAnswers += 1;
        // A completed answer's chunks are 1..n in order and add up to it (a re-run after the kill starts at 1).
        if (!inOrder || chunks.map((chunk) => chunk.content).join('') !== final?.content) brokenStreams += 1;
      } else if (outcome === 'interrupted') {
        // The truthful end of a stream cut by the kill: the text that was streamed, and the error.
        if (!inOrder || !final?.content.startsWith(chunks.map((chunk) => chunk.content).join(''))) brokenStreams += 1;
      }
    }

    const logLines = (service: ServiceProcess | undefined, text: string) =>
      (service?.output.join('') ?? '').split('\n').filter((line) => line.includes(text)).length;
    const requests = outcomes.size;
    const figures = {
      clients: clientCount,
      apis: apis.length,
      workers: workers.length,
      requests,
      refused: refusals.length,
      seconds: Number((elapsedMs / 1_000).toFixed(1)),
      requestsPerSecond: Number((requests / (elapsedMs / 1_000)).toFixed(1)),
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP95Ms: percentile(latencies, 0.95),
      killedWorkerAtSecond: Number(((killedAt ?? 0) / 1_000).toFixed(1)),
      answersStreamingAtKill: streamingAtKill,
      // Answers (and question categorizations) each worker finished; the killed one's count stops at the kill.
      jobsFinishedByKilledWorker: logLines(workers[0], '"completion finished"'),
      jobsFinishedBySurvivor: logLines(workers[1], '"completion finished"'),
      completed: tally.completed,
      interruptedEndedTruthfully: tally.interrupted,
      otherEnds: tally.other,
      lost: tally.lost,
      duplicatedFinals,
      foreignMessages,
      brokenStreams,
      wrongAnswers,
    };
    console.log(`scale-out figures\n${JSON.stringify(figures, null, 2)}`);

    expect(refusals).toEqual([]);
    expect(killedAt).toBeDefined();
    expect(requests).toBe(clientCount * questionsPerClient);
    expect(figures).toMatchObject({
      lost: 0,
      duplicatedFinals: 0,
      foreignMessages: 0,
      brokenStreams: 0,
      wrongAnswers: 0,
      otherEnds: 0,
    });
    expect(tally.completed + tally.interrupted).toBe(requests);
    // Whether the killed worker held a stream at that instant depends on which worker took which jobs, so it is
    // reported, not asserted (it was 3–31 in most runs, 0 in some). The mid-stream kill itself is proven
    // deterministically by test/faults/kill-worker.test.ts, where the killed worker holds every running job.
    console.log(`answers cut by the kill and ended as interrupted: ${tally.interrupted}`);
  }, 300_000);
});
