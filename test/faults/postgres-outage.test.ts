import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devToken } from '../../seeds/dev-world.ts';
import { createDatabase, type DatabaseHandle } from '../../src/db/client.ts';
import { toGlobalId } from '../../src/gid.ts';
import { connectWebSocketClient, graphqlRequest } from '../helpers/graphql-clients.ts';
import { createRedisNamespace, testRedisUrl } from '../helpers/redis-namespace.ts';
import { createSeededEmbeddedDatabase } from '../helpers/test-database.ts';
import { startTestRuntime, type TestRuntime } from '../helpers/test-runtime.ts';
import { figuresOf, printFigures, runChatLoad } from './chat-load.ts';
import { faultTableHeader } from './faults-table.ts';
import { startOutageProxy } from './tcp-outage-proxy.ts';

const namespace = createRedisNamespace();
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
const outageMs = 10_000;
let embedded: DatabaseHandle;
let server: PGLiteSocketServer;
let proxy: Awaited<ReturnType<typeof startOutageProxy>>;
let pool: DatabaseHandle;
let runtime: TestRuntime;
let clients: Client[];

async function serve(onPort: number): Promise<PGLiteSocketServer> {
  if (!embedded.pglite) throw new Error('expected an embedded database');
  const socketServer = new PGLiteSocketServer({
    db: embedded.pglite,
    host: '127.0.0.1',
    port: onPort,
    maxConnections: 100,
  });
  await socketServer.start();
  return socketServer;
}

beforeAll(async () => {
  embedded = await createSeededEmbeddedDatabase();
  server = await serve(0);
  // The service reaches Postgres through a proxy that can take it off the network.
  proxy = await startOutageProxy({ host: '127.0.0.1', port: Number(server.getServerConn().split(':').at(-1)) });
  pool = await createDatabase({
    dataDir: 'memory://',
    databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/postgres?sslmode=disable`,
  });
  runtime = await startTestRuntime({
    role: 'all',
    database: pool,
    prefix: namespace.prefix,
    // Every request asks the database (no cached tokens or memberships), so the outage is felt.
    environment: { AUTH_CACHE_TTL_MS: '0', AI_ACTION_RATE_LIMIT: '0', FAKE_MODEL_LATENCY_MS: '5' },
  });
  clients = Array.from({ length: 2 }, () => connectWebSocketClient(runtime.baseUrl, developer.token));
}, 60_000);

afterAll(async () => {
  for (const client of clients ?? []) await client.dispose();
  await runtime?.close();
  await pool?.close();
  await proxy?.close();
  await server?.stop();
  await embedded?.close();
  await namespace.cleanup();
});

describe('Postgres unavailable for 10 s', () => {
  it('refuses cleanly while it is down, loses no accepted request, and recovers without a restart', async () => {
    let outage: Promise<void> | undefined;
    const startedAt = Date.now();
    const outcomes = await runChatLoad({
      baseUrl: runtime.baseUrl,
      clients,
      reconnect: () => connectWebSocketClient(runtime.baseUrl, developer.token),
      user: developer,
      redisUrl: testRedisUrl,
      prefix: namespace.prefix,
      count: 240,
      concurrency: 4,
      pauseMs: 200,
      content: (index) => `Hello again, number ${index}`,
      finalTimeoutMs: 30_000,
      onSettled: (settled) => {
        if (settled === 20 && !outage) {
          outage = (async () => {
            await proxy.down();
            await new Promise((resolve) => setTimeout(resolve, outageMs));
            await proxy.up();
          })();
        }
      },
    });
    await outage;
    const figures = figuresOf(outcomes);
    console.log(faultTableHeader);
    printFigures('Postgres unavailable', `connections cut and refused for ${outageMs / 1000} s`, figures);
    console.log(`(run took ${((Date.now() - startedAt) / 1000).toFixed(1)} s)`);
    expect(figures.refused).toBeGreaterThan(0); // the outage was felt…
    expect(figures.lost).toBe(0);
    expect(figures.duplicateFinals).toBe(0);
    // …every refusal was a clean, retryable GraphQL error…
    for (const outcome of outcomes.filter((candidate) => candidate.refused !== undefined)) {
      expect(outcome.refused).toMatch(
        /^(subscription: )?The AI service is temporarily unavailable\. Try again later\.$/,
      );
    }
    // …and the service answered again afterwards, without a restart.
    expect(outcomes.slice(-20).every((outcome) => outcome.finals[0]?.extras.status === 'COMPLETED')).toBe(true);
    const health = await graphqlRequest<{ currentUser: { id: string } }>(runtime.baseUrl, '{ currentUser { id } }', {
      token: developer.token,
    });
    expect(health.body.data?.currentUser.id).toBe(developer.gid);
  }, 180_000);
});
