// `npm run bench:e2e`: time from sending `aiAction` to receiving the final message on a graphql-ws
// subscriber, with the API and the worker as separate processes (fake model, zero latency), at 1, 50
// and 200 concurrent users; and, in the same run with the same client, the same for the floor
// (bench/floor-server.ts). Writes bench/results/e2e.md.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Client, createClient } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { digestToken } from '../src/auth/tokens.ts';
import { type ServiceProcess, startServiceProcess } from '../test/helpers/service-process.ts';

const levels = [
  { users: 1, actionsPerUser: 300 },
  { users: 50, actionsPerUser: 30 },
  { users: 200, actionsPerUser: 10 },
];
const warmupActions = 100;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

interface BenchUser {
  gid: string;
  token: string;
}

interface LevelResult {
  users: number;
  actions: number;
  p50: number;
  p90: number;
  p99: number;
  actionsPerSecond: number;
}

const mutation = /* GraphQL */ `
  mutation ($content: String!, $clientSubscriptionId: String) {
    aiAction(input: { chat: { content: $content }, clientSubscriptionId: $clientSubscriptionId }) { requestId errors }
  }
`;
const subscription = /* GraphQL */ `
  subscription ($userId: UserID, $clientSubscriptionId: String) {
    aiCompletionResponse(userId: $userId, aiAction: CHAT, clientSubscriptionId: $clientSubscriptionId) {
      id requestId content contentHtml role chunkId errors extras { status }
    }
  }
`;
const floorSubscription = subscription
  .replace('$userId: UserID', '$userId: String')
  .replace('aiAction: CHAT', 'aiAction: "chat"');

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

/** One simulated user: a graphql-ws connection with one subscription, sending mutations one after another. */
async function createSession(baseUrl: string, user: BenchUser, floor: boolean) {
  const clientSubscriptionId = randomUUID();
  const client: Client = createClient({
    url: `${baseUrl.replace('http', 'ws')}/api/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${user.token}` },
    lazy: false,
    retryAttempts: 0,
  });
  const finals = new Map<string, number>();
  const waiters = new Map<string, (at: number) => void>();
  let subscribed!: () => void;
  const ready = new Promise<void>((resolve) => {
    subscribed = resolve;
  });
  client.subscribe<{ aiCompletionResponse: { requestId: string; chunkId: number | null; role: string } }>(
    { query: floor ? floorSubscription : subscription, variables: { userId: user.gid, clientSubscriptionId } },
    {
      next: (result) => {
        const message = result.data?.aiCompletionResponse;
        if (!message || message.chunkId !== null || message.role !== 'ASSISTANT') return;
        const at = performance.now();
        const waiter = waiters.get(message.requestId);
        if (waiter) waiter(at);
        else finals.set(message.requestId, at);
      },
      error: (error) => {
        process.stderr.write(`subscription error: ${JSON.stringify(error)}\n`);
      },
      complete: () => undefined,
    },
  );
  // graphql-ws gives no "subscribed" acknowledgement; a short pause after connecting lets the
  // server register the subscription before the first mutation.
  client.on('connected', () => setTimeout(subscribed, 200));
  await ready;

  return {
    async act(): Promise<number> {
      const startedAt = performance.now();
      const response = await fetch(`${baseUrl}/api/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({
          query: mutation,
          variables: { content: 'How do I rebase a branch?', clientSubscriptionId },
        }),
      });
      const body = (await response.json()) as { data?: { aiAction?: { requestId: string } }; errors?: unknown };
      const requestId = body.data?.aiAction?.requestId;
      if (!requestId) throw new Error(`mutation failed: ${JSON.stringify(body)}`);
      const arrived =
        finals.get(requestId) ??
        (await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no final message for ${requestId}`)), 60_000);
          waiters.set(requestId, (at) => {
            clearTimeout(timer);
            resolve(at);
          });
        }));
      finals.delete(requestId);
      waiters.delete(requestId);
      return arrived - startedAt;
    },
    close: () => client.dispose(),
  };
}

async function measure(baseUrl: string, users: BenchUser[], floor: boolean): Promise<LevelResult[]> {
  const results: LevelResult[] = [];
  const warmup = await createSession(baseUrl, users[0] as BenchUser, floor);
  for (let index = 0; index < warmupActions; index += 1) await warmup.act();
  await warmup.close();
  for (const level of levels) {
    const sessions = await Promise.all(users.slice(0, level.users).map((user) => createSession(baseUrl, user, floor)));
    const latencies: number[] = [];
    const startedAt = performance.now();
    await Promise.all(
      sessions.map(async (session) => {
        for (let index = 0; index < level.actionsPerUser; index += 1) latencies.push(await session.act());
      }),
    );
    const elapsedSeconds = (performance.now() - startedAt) / 1_000;
    await Promise.all(sessions.map((session) => session.close()));
    latencies.sort((a, b) => a - b);
    results.push({
      users: level.users,
      actions: latencies.length,
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      p99: percentile(latencies, 0.99),
      actionsPerSecond: latencies.length / elapsedSeconds,
    });
    process.stderr.write(`${floor ? 'floor' : 'product'} ${level.users} users: ${JSON.stringify(results.at(-1))}\n`);
  }
  return results;
}

async function startDatabaseServer(dataDir: string): Promise<{ url: string; stop(): void }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/db-serve.ts'], {
    env: { ...process.env, DATA_DIR: dataDir, DB_SERVE_PORT: String(port), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (data: Buffer) => {
      output += data.toString();
      const match = /DATABASE_URL=(\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`db:serve exited with ${code}: ${output}`)));
  });
  return { url, stop: () => child.kill('SIGTERM') };
}

/** Adds 200 users with tokens and Duo seats of their own: each simulated user is a distinct account. */
async function createBenchUsers(databaseUrl: string): Promise<BenchUser[]> {
  const client = new pg.Client(databaseUrl);
  await client.connect();
  const users: BenchUser[] = [];
  try {
    for (let index = 0; index < 200; index += 1) {
      const id = 10_000 + index;
      const token = `glpat-bench-${index}`;
      await client.query(
        `insert into users (id, username, name, email) values ($1, $2, $3, $4) on conflict do nothing`,
        [id, `bench-${index}`, `Bench ${index}`, `bench-${index}@example.com`],
      );
      await client.query(
        `insert into personal_access_tokens (user_id, name, token_digest, scopes) values ($1, 'bench', $2, '{api}') on conflict do nothing`,
        [id, digestToken(token)],
      );
      // A Duo Enterprise seat of the seeded Ultimate group: chat needs one.
      await client.query(
        `insert into add_on_seat_assignments (group_add_on_id, user_id) values (1, $1) on conflict do nothing`,
        [id],
      );
      users.push({ gid: `gid://gitlab/User/${id}`, token });
    }
  } finally {
    await client.end();
  }
  return users;
}

function formatRow(label: string, result: LevelResult): string {
  return `| ${label} | ${result.users} | ${result.actions} | ${result.p50.toFixed(2)} | ${result.p90.toFixed(2)} | ${result.p99.toFixed(2)} | ${result.actionsPerSecond.toFixed(0)} |`;
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'duo-bench-'));
const processes: ServiceProcess[] = [];
let database: { url: string; stop(): void } | undefined;
try {
  database = await startDatabaseServer(dataDir);
  const users = await createBenchUsers(database.url);
  const prefix = `bench-${randomUUID()}:`;
  const environment = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    REDIS_AUTOSTART: 'false',
    PORT: '0',
    METRICS_PORT: '0',
    FAKE_MODEL_LATENCY_MS: '0',
    LOG_LEVEL: 'warn',
    NODE_ENV: 'production',
    WORKER_CONCURRENCY: '100',
    // GitLab's 160 per 8 hours would stop the benchmark's thousands of requests per user.
    AI_ACTION_RATE_LIMIT: '0',
  };
  const [api, worker, floor] = await Promise.all([
    startServiceProcess('src/start-api.ts', { ...environment, LOG_LEVEL: 'info' }),
    startServiceProcess('src/start-worker.ts', { ...environment, LOG_LEVEL: 'info' }),
    startServiceProcess('bench/floor-server.ts', {}),
  ]);
  processes.push(api, worker, floor);

  // Interleave: floor, product, floor again; the floor figures are the better of its two runs.
  const floorFirst = await measure(`http://127.0.0.1:${floor.port}`, users, true);
  const product = await measure(`http://127.0.0.1:${api.port}`, users, false);
  const floorSecond = await measure(`http://127.0.0.1:${floor.port}`, users, true);
  const floorBest = floorFirst.map((first, index) => {
    const second = floorSecond[index] as LevelResult;
    return first.p50 <= second.p50
      ? { ...first, actionsPerSecond: Math.max(first.actionsPerSecond, second.actionsPerSecond) }
      : { ...second, actionsPerSecond: Math.max(first.actionsPerSecond, second.actionsPerSecond) };
  });

  const lines = [
    '# bench:e2e — aiAction mutation to final message on a graphql-ws subscriber',
    '',
    `Measured ${new Date().toISOString()} on this machine (${(await import('node:os')).cpus().length} cores), Node ${process.version}.`,
    'Product: API and worker as separate processes (`start:api`, `start:worker`), real Redis, PGlite served over the wire',
    '(`db:serve`), fake model at zero latency, chat action (history writes included), each simulated user its own',
    'account, token and graphql-ws connection. Floor: graphql-yoga + graphql-ws with the same schema shapes and an',
    'in-process pub/sub, no auth, no queue, no Redis (`bench/floor-server.ts`); measured before and after the product,',
    'best of the two. The client runs on the same 2 cores as the servers. Latencies in ms.',
    '',
    '| server | users | actions | p50 | p90 | p99 | actions/s |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...floorBest.map((result) => formatRow('floor', result)),
    ...product.map((result) => formatRow('product', result)),
    '',
    '| users | p50 ratio (target ≤ 2× at 1 user) | p99 ratio (target ≤ 3× at 50/200) | throughput ratio (target ≥ 50% at 50/200) |',
    '|---:|---:|---:|---:|',
    ...product.map((result, index) => {
      const floorResult = floorBest[index] as LevelResult;
      return `| ${result.users} | ${(result.p50 / floorResult.p50).toFixed(2)}× | ${(result.p99 / floorResult.p99).toFixed(2)}× | ${((100 * result.actionsPerSecond) / floorResult.actionsPerSecond).toFixed(0)}% |`;
    }),
    '',
  ];
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/e2e.md', lines.join('\n'));
  process.stdout.write(`${lines.join('\n')}\n`);
} finally {
  await Promise.all(processes.map((service) => service.stop()));
  database?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
