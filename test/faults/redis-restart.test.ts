import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Client } from 'graphql-ws';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import { connectWebSocketClient, graphqlRequest } from '../helpers/graphql-clients.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';
import { figuresOf, printFigures, runChatLoad } from './chat-load.ts';
import { faultTableHeader } from './faults-table.ts';

const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
const downMs = 5_000;
let directory: string;
let port: number;
let redisUrl: string;
let redisServer: ChildProcess | undefined;
let database: DatabaseHandle;
let runtime: TestRuntime;
let clients: Client[];

async function sparePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

/** Our own Redis, as production runs it for BullMQ: append-only file, fsync on every write. */
async function startRedis(): Promise<ChildProcess> {
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      directory,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const probe = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  for (let attempt = 0; attempt < 100; attempt++) {
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  probe.disconnect();
  return child;
}

beforeAll(async () => {
  directory = mkdtempSync(path.join(tmpdir(), 'redis-fault-'));
  port = await sparePort();
  redisUrl = `redis://127.0.0.1:${port}`;
  redisServer = await startRedis();
  database = await createSeededEmbeddedDatabase();
  runtime = await startTestRuntime({
    role: 'all',
    database,
    prefix: 'fault:',
    environment: { REDIS_URL: redisUrl, AI_ACTION_RATE_LIMIT: '0', FAKE_MODEL_LATENCY_MS: '20' },
  });
  clients = Array.from({ length: 3 }, () => connectWebSocketClient(runtime.baseUrl, developer.token));
}, 60_000);

afterAll(async () => {
  for (const client of clients ?? []) await client.dispose();
  await runtime?.close();
  await database?.close();
  redisServer?.kill('SIGKILL');
  rmSync(directory, { recursive: true, force: true });
});

describe('Redis restarted mid-run', () => {
  it('refuses cleanly while Redis is down, loses no accepted request, and recovers without a restart', async () => {
    let restart: Promise<void> | undefined;
    const outcomes = await runChatLoad({
      baseUrl: runtime.baseUrl,
      clients,
      reconnect: () => connectWebSocketClient(runtime.baseUrl, developer.token),
      user: developer,
      redisUrl,
      prefix: 'fault:',
      count: 120,
      concurrency: 6,
      pauseMs: 50,
      content: (index) => `Tell me about merge trains, part ${index}`,
      finalTimeoutMs: 15_000,
      onSettled: (settled) => {
        if (settled === 20 && !restart) {
          restart = (async () => {
            const killed = redisServer;
            await new Promise((resolve) => {
              killed?.once('exit', resolve);
              killed?.kill('SIGKILL');
            });
            await new Promise((resolve) => setTimeout(resolve, downMs));
            redisServer = await startRedis();
          })();
        }
      },
    });
    await restart;
    const figures = figuresOf(outcomes);
    console.log(faultTableHeader);
    printFigures(
      'Redis restarted',
      `redis-server killed (SIGKILL), back after ${downMs / 1000} s with its AOF`,
      figures,
    );
    expect(restart).toBeDefined();
    expect(figures.lost).toBe(0);
    expect(figures.duplicateFinals).toBe(0);
    expect(figures.brokenStreams).toBe(0);
    for (const outcome of outcomes.filter((candidate) => candidate.refused?.startsWith('subscription') === false)) {
      expect(outcome.refused).toBe('The AI service is temporarily unavailable. Try again later.');
    }
    expect(outcomes.slice(-10).every((outcome) => outcome.finals[0]?.extras.status === 'COMPLETED')).toBe(true);
    const after = await graphqlRequest<{ currentUser: { id: string } }>(runtime.baseUrl, '{ currentUser { id } }', {
      token: developer.token,
    });
    expect(after.body.data?.currentUser.id).toBe(developer.gid);
  }, 180_000);
});
