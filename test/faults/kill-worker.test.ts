import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import { toGlobalId } from '../../src/gid.ts';
import { connectWebSocketClient } from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { type ServiceProcess, startServiceProcess } from '../helpers/service-process.ts';
import { type ServedDatabase, serveSeededDatabase } from '../helpers/test-database.ts';
import { figuresOf, printFigures, runChatLoad } from './chat-load.ts';
import { faultTableHeader } from './faults-table.ts';

const namespace = createRedisNamespace();
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
let database: ServedDatabase;
let api: ServiceProcess;
let workers: ServiceProcess[];
let clients: Client[];
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
    AI_ACTION_RATE_LIMIT: '0',
    // A dead worker's jobs are re-run after about 3 s instead of BullMQ's 30 s.
    WORKER_LOCK_DURATION_MS: '3000',
    // Streams of about 2 s, so most running jobs are mid-answer when the worker dies.
    FAKE_MODEL_LATENCY_MS: '100',
    FAKE_MODEL_CHUNK_SIZE: '8',
  };
  // One worker at first, so the one killed holds every running job; a replacement starts after the kill.
  [api, ...workers] = await Promise.all([
    startServiceProcess('src/start-api.ts', environment),
    startServiceProcess('src/start-worker.ts', environment),
  ]);
  const baseUrl = `http://127.0.0.1:${api.port}`;
  clients = Array.from({ length: 4 }, () => connectWebSocketClient(baseUrl, developer.token));
}, 120_000);

afterAll(async () => {
  for (const client of clients ?? []) await client.dispose();
  await Promise.all([api?.stop(), ...(workers ?? []).map((worker) => worker.stop())]);
  await database?.stop();
  await namespace.cleanup();
}, 60_000);

describe('a worker killed with SIGKILL mid-stream', () => {
  it('loses no request: every accepted request ends with exactly one final message', async () => {
    const baseUrl = `http://127.0.0.1:${api.port}`;
    let killed = false;
    let replacement: Promise<ServiceProcess> | undefined;
    const outcomes = await runChatLoad({
      baseUrl,
      clients,
      reconnect: () => connectWebSocketClient(baseUrl, developer.token),
      user: developer,
      redisUrl: testRedisUrl,
      prefix: namespace.prefix,
      count: 80,
      concurrency: 20,
      content: (index) => `Tell me a story about rebasing, part ${index}`,
      finalTimeoutMs: 20_000,
      onSettled: (settled) => {
        if (settled === 3 && !killed) {
          killed = true;
          workers[0]?.child.kill('SIGKILL');
          // A supervisor (compose, Kubernetes) starts a replacement; it re-runs the dead worker's jobs.
          replacement = startServiceProcess('src/start-worker.ts', environment).then((worker) => {
            workers.push(worker);
            return worker;
          });
        }
      },
    });
    const figures = figuresOf(outcomes);
    await replacement;
    const interrupted = outcomes.filter((outcome) =>
      outcome.finals[0]?.errors.some((error) => error.startsWith('The answer was interrupted')),
    ).length;
    console.log(faultTableHeader);
    printFigures(
      'worker killed (SIGKILL) mid-stream',
      `the only worker killed after 3 answers; ${interrupted} answers were mid-stream`,
      figures,
    );
    expect(killed).toBe(true);
    expect(figures.accepted).toBe(80);
    expect(figures.lost).toBe(0);
    expect(figures.duplicateFinals).toBe(0);
    expect(figures.brokenStreams).toBe(0);
    // Answers cut by the kill end truthfully as interrupted; the replacement answers the rest in full.
    expect(interrupted).toBeGreaterThan(0);
    expect(figures.errored).toBe(interrupted);
    expect(figures.completed + interrupted).toBe(80);
  }, 120_000);
});
