// `npm run bench:chat`: the three Duo Chat targets of the issue, each measured beside a floor in the same
// run, with the API and the worker as separate processes (`start:api`, `start:worker`, as `bench:e2e`).
//   1. `aiMessages` over a full 50-message history: HTTP round trip with keep-alive, p50 ≤ 3 ms.
//   2. One chat turn (fake model, no tool, no latency): `aiAction` to the final message on graphql-ws, p50 ≤ 10 ms.
//   3. 1,000 users chatting at once with streamed answers (fake model, 5 ms between chunks): no lost or
//      reordered chunk, checked for every request.
// Writes bench/results/chat.md. `tsx bench/chat.ts --history-floor` is the floor of measure 1: a bare
// node:http server answering the same history, read with XRANGE, as a same-shaped JSON body; the
// benchmark starts it itself.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request as httpRequest } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type Client, createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import pg from 'pg';
import WebSocket from 'ws';
import { digestToken } from '../src/auth/tokens.ts';
import { chatHistoryKey, chatHistoryLimits } from '../src/chat/chat-history.ts';
import { channelFor } from '../src/pubsub.ts';
import { type ServiceProcess, startServiceProcess } from '../test/helpers/service-process.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The sizes of each measure. The issue asks for ≥ 300 turns and about 2,000 queries; the rest is warm-up. */
const plan = {
  historyWarmupQueries: 500,
  historyQueries: 2_000,
  turnWarmup: 100,
  turns: 400,
  /** Measure 3: one graphql-ws connection per user, as GitLab's chat opens one per browser tab. */
  concurrentUsers: Number(process.env.BENCH_CHAT_USERS ?? 1_000),
  /** Questions each user asks in measure 3, one after the other, so streams of different users overlap. */
  questionsPerUser: Number(process.env.BENCH_CHAT_QUESTIONS ?? 2),
  /** Between two chunks of the fake model in measure 3: long enough that thousands of streams interleave. */
  concurrentModelLatencyMs: 5,
  /** A request without its final message this long after the mutation returned counts as lost. */
  finalTimeoutMs: 120_000,
  /** Same as bench:e2e; the production default is 50. */
  workerConcurrency: 100,
};

// ---------------------------------------------------------------------------------------------------
// The floor of measure 1, run as its own process.

interface FloorNode {
  id: string;
  requestId: string;
  content: string;
  contentHtml: string | null;
  role: string;
  timestamp: string;
  errors: string[];
  type: null;
  chunkId: null;
  extras: { sources: unknown[]; hasFeedback: boolean; status: string | null; model: string | null };
}

function parseOr<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** A bare node:http server: one XRANGE of the user's history per request, answered as the GraphQL body would be. */
async function serveHistoryFloor(): Promise<void> {
  const key = process.env.HISTORY_KEY;
  if (!key) throw new Error('HISTORY_KEY is required');
  const redis = new Redis(redisUrl);
  const server = createServer((request, response) => {
    request.resume();
    request.once('end', () => {
      void redis.xrange(key, '-', '+').then((entries) => {
        const nodes = entries.map(([, fields]): FloorNode => {
          const record: Record<string, string> = {};
          for (let index = 0; index + 1 < fields.length; index += 2)
            record[fields[index] as string] = fields[index + 1] as string;
          const extras = parseOr<Partial<FloorNode['extras']>>(record.extras, {});
          const content = record.content ?? '';
          return {
            id: record.id ?? '',
            requestId: record.request_id ?? '',
            content,
            // Same size as the product's rendered HTML, without the Markdown rendering.
            contentHtml: `<p>${content}</p>\n`,
            role: (record.role ?? 'user').toUpperCase(),
            timestamp: record.timestamp ?? '',
            errors: parseOr<string[]>(record.errors, []),
            type: null,
            chunkId: null,
            extras: {
              sources: extras.sources ?? [],
              hasFeedback: false,
              status: extras.status ? extras.status.toUpperCase() : null,
              model: extras.model ?? null,
            },
          };
        });
        const body = JSON.stringify({ data: { aiMessages: { nodes } } });
        response
          .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
          .end(body);
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`FLOOR_PORT=${typeof address === 'object' && address ? address.port : 0}\n`);
  });
  process.once('SIGTERM', () => {
    server.close();
    redis.disconnect();
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------------
// Shared helpers.

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

interface Summary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function summarize(latencies: number[]): Summary {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p90: percentile(sorted, 0.9),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** Runs `task` over `items` with at most `limit` at once, in order of start. */
async function mapWithConcurrency<T, R>(items: T[], limit: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await task(items[index] as T);
      }
    }),
  );
  return results;
}

interface BenchUser {
  id: number;
  gid: string;
  token: string;
}

/** Users with tokens and Duo seats of their own, written straight to the database as bench:e2e does. */
async function createBenchUsers(databaseUrl: string, count: number): Promise<BenchUser[]> {
  const users = Array.from({ length: count }, (_, index) => {
    const id = 20_000 + index;
    return { id, gid: `gid://gitlab/User/${id}`, token: `glpat-bench-chat-${index}` };
  });
  const ids = users.map((user) => user.id);
  const client = new pg.Client(databaseUrl);
  await client.connect();
  try {
    await client.query(
      `insert into users (id, username, name, email)
       select id, 'bench-chat-' || id, 'Bench chat ' || id, 'bench-chat-' || id || '@example.com'
       from unnest($1::int[]) as id on conflict do nothing`,
      [ids],
    );
    await client.query(
      `insert into personal_access_tokens (user_id, name, token_digest, scopes)
       select user_id, 'bench', token_digest, '{api}' from unnest($1::int[], $2::text[]) as t(user_id, token_digest)
       on conflict do nothing`,
      [ids, users.map((user) => digestToken(user.token))],
    );
    // A Duo Enterprise seat of the seeded Ultimate group: chat needs one.
    await client.query(
      `insert into add_on_seat_assignments (group_add_on_id, user_id)
       select 1, id from unnest($1::int[]) as id on conflict do nothing`,
      [ids],
    );
  } finally {
    await client.end();
  }
  return users;
}

/** Starts a child process and resolves with the first match of `pattern` on its stdout. */
async function spawnAndWait(
  args: string[],
  environment: Record<string, string>,
  pattern: RegExp,
): Promise<{ child: ChildProcess; match: string }> {
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const match = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (data: Buffer) => {
      output += data.toString();
      const found = pattern.exec(output);
      if (found?.[1]) resolve(found[1]);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${output}`)));
  });
  return { child, match };
}

// ---------------------------------------------------------------------------------------------------
// Measure 1: HTTP round trips with keep-alive.

interface HttpTarget {
  label: string;
  port: number;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** One keep-alive socket per target, so each is measured on a warm connection of its own. */
  agent: Agent;
}

function roundTrip(target: HttpTarget): Promise<{ ms: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const request = httpRequest(
      {
        host: '127.0.0.1',
        port: target.port,
        method: target.method,
        path: target.path,
        headers: target.body ? { ...target.headers, 'content-length': Buffer.byteLength(target.body) } : target.headers,
        agent: target.agent,
      },
      (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.once('end', () =>
          resolve({
            ms: performance.now() - startedAt,
            status: response.statusCode ?? 0,
            body: Buffer.concat(parts).toString(),
          }),
        );
        response.once('error', reject);
      },
    );
    request.once('error', reject);
    request.end(target.body);
  });
}

/** Round-robin over the targets, one query each per round, so machine noise falls on all of them alike. */
async function measureRoundTrips(targets: HttpTarget[]): Promise<Map<string, Summary>> {
  for (let index = 0; index < plan.historyWarmupQueries; index += 1)
    for (const target of targets) await roundTrip(target);
  const latencies = new Map(targets.map((target) => [target.label, [] as number[]]));
  for (let index = 0; index < plan.historyQueries; index += 1) {
    for (const target of targets) {
      const { ms, status } = await roundTrip(target);
      if (status !== 200) throw new Error(`${target.label} answered ${status}`);
      latencies.get(target.label)?.push(ms);
    }
  }
  return new Map([...latencies].map(([label, values]) => [label, summarize(values)]));
}

// ---------------------------------------------------------------------------------------------------
// Measures 2 and 3: chat sessions on graphql-ws.

const mutation = /* GraphQL */ `
  mutation ($content: String!, $clientSubscriptionId: String) {
    aiAction(input: { chat: { content: $content }, clientSubscriptionId: $clientSubscriptionId }) { requestId errors }
  }
`;
const subscription = /* GraphQL */ `
  subscription ($userId: UserID, $clientSubscriptionId: String) {
    aiCompletionResponse(userId: $userId, aiAction: CHAT, clientSubscriptionId: $clientSubscriptionId) {
      id requestId content role chunkId errors extras { status }
    }
  }
`;
// bench/floor-server.ts types the same arguments as strings.
const floorSubscription = subscription
  .replace('$userId: UserID', '$userId: String')
  .replace('aiAction: CHAT', 'aiAction: "chat"');

interface ReceivedMessage {
  requestId: string;
  content: string | null;
  role: string;
  chunkId: number | null;
  errors: string[] | null;
  extras: { status: string | null } | null;
}

/** Everything one subscriber saw of one request, in arrival order. */
interface RequestRecord {
  chunkIds: number[];
  chunkTexts: string[];
  finals: ReceivedMessage[];
  /** Chunks that arrived after the final message. */
  chunksAfterFinal: number;
  /** Other messages (tool notices, user messages); none are expected on this subscription for these questions. */
  others: number;
}

interface ChatSession {
  user: BenchUser;
  clientSubscriptionId: string;
  records: Map<string, RequestRecord>;
  /** Request ids this session's own mutations returned. */
  sent: Set<string>;
  subscriptionErrors: number;
  /** Sends one question; resolves with the request id, the mutation's round trip, and the time to the final message. */
  ask(content: string): Promise<{ requestId: string; ms: number; mutationMs: number }>;
  close(): Promise<void>;
}

class MutationRefusedError extends Error {
  override name = 'MutationRefusedError';
}
class LostRequestError extends Error {
  override name = 'LostRequestError';
}

/** Connects one user (token in connectionParams, as GitLab's client sends it) and subscribes with its own id. */
async function openChatSession(baseUrl: string, user: BenchUser, floor: boolean): Promise<ChatSession> {
  const clientSubscriptionId = randomUUID();
  const client: Client = createClient({
    url: `${baseUrl.replace('http', 'ws')}/api/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${user.token}` },
    lazy: false,
    retryAttempts: 0,
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`user ${user.id} did not connect`)), 60_000);
    client.on('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.on('closed', (event) => {
      clearTimeout(timer);
      reject(new Error(`user ${user.id}: connection closed ${JSON.stringify((event as { code?: number }).code)}`));
    });
  });
  const records = new Map<string, RequestRecord>();
  const waiters = new Map<string, (at: number) => void>();
  const finalAt = new Map<string, number>();
  const session: ChatSession = {
    user,
    clientSubscriptionId,
    records,
    sent: new Set(),
    subscriptionErrors: 0,
    async ask(content) {
      const startedAt = performance.now();
      const response = await fetch(`${baseUrl}/api/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${user.token}` },
        body: JSON.stringify({ query: mutation, variables: { content, clientSubscriptionId } }),
      });
      const body = (await response.json()) as { data?: { aiAction?: { requestId: string | null } }; errors?: unknown };
      const mutationMs = performance.now() - startedAt;
      const requestId = body.data?.aiAction?.requestId;
      if (!requestId) throw new MutationRefusedError(`mutation refused: ${JSON.stringify(body).slice(0, 300)}`);
      session.sent.add(requestId);
      const arrived =
        finalAt.get(requestId) ??
        (await new Promise<number>((resolve, reject) => {
          const timer = setTimeout(() => {
            waiters.delete(requestId);
            reject(new LostRequestError(requestId));
          }, plan.finalTimeoutMs);
          waiters.set(requestId, (at) => {
            clearTimeout(timer);
            resolve(at);
          });
        }));
      return { requestId, ms: arrived - startedAt, mutationMs };
    },
    close: async () => {
      await client.dispose();
    },
  };
  client.subscribe<{ aiCompletionResponse: ReceivedMessage | null }>(
    {
      query: floor ? floorSubscription : subscription,
      variables: { userId: user.gid, clientSubscriptionId },
    },
    {
      next: (result) => {
        const at = performance.now();
        if (result.errors) session.subscriptionErrors += 1;
        const message = result.data?.aiCompletionResponse;
        if (!message) return;
        let record = records.get(message.requestId);
        if (!record) {
          record = { chunkIds: [], chunkTexts: [], finals: [], chunksAfterFinal: 0, others: 0 };
          records.set(message.requestId, record);
        }
        if (message.chunkId !== null) {
          if (record.finals.length > 0) record.chunksAfterFinal += 1;
          record.chunkIds.push(message.chunkId);
          record.chunkTexts.push(message.content ?? '');
        } else if (message.role === 'ASSISTANT') {
          record.finals.push(message);
          if (record.finals.length === 1) {
            finalAt.set(message.requestId, at);
            waiters.get(message.requestId)?.(at);
            waiters.delete(message.requestId);
          }
        } else {
          record.others += 1;
        }
      },
      error: () => {
        session.subscriptionErrors += 1;
      },
      complete: () => undefined,
    },
  );
  return session;
}

/**
 * Waits until the API has subscribed every session's channel in Redis (PUBSUB NUMSUB), so no question
 * is sent before its subscription is in place.
 */
async function waitForSubscriptions(prefix: string, sessions: ChatSession[], timeoutMs = 60_000): Promise<void> {
  const redis = new Redis(redisUrl);
  const deadline = Date.now() + timeoutMs;
  let pending = sessions.map((session) =>
    channelFor(prefix, {
      userId: session.user.gid,
      aiAction: 'chat',
      clientSubscriptionId: session.clientSubscriptionId,
    }),
  );
  try {
    while (pending.length > 0) {
      if (Date.now() > deadline) throw new Error(`${pending.length} subscriptions not in place`);
      const stillPending: string[] = [];
      for (let offset = 0; offset < pending.length; offset += 200) {
        const channels = pending.slice(offset, offset + 200);
        const reply = (await redis.pubsub('NUMSUB', ...channels)) as (string | number)[];
        for (let index = 0; index < channels.length; index += 1)
          if (Number(reply[2 * index + 1]) < 1) stillPending.push(channels[index] as string);
      }
      pending = stillPending;
      if (pending.length > 0) await sleep(20);
    }
  } finally {
    redis.disconnect();
  }
}

/** What can be wrong with the stream of one request, as its subscriber saw it. */
type StreamProblem =
  | 'missingChunks'
  | 'duplicateChunks'
  | 'reorderedChunks'
  | 'contentMismatch'
  | 'chunksAfterFinal'
  | 'duplicateFinals'
  | 'notCompleted'
  | 'noChunks';

/** Counts over every request of a measure. */
interface StreamCheck extends Record<StreamProblem, number> {
  requests: number;
  complete: number;
  lost: number;
  refused: number;
  foreignRequests: number;
  subscriptionErrors: number;
  chunks: number;
  /** A few examples of what went wrong, for the report. */
  examples: string[];
}

function emptyCheck(): StreamCheck {
  return {
    requests: 0,
    complete: 0,
    lost: 0,
    refused: 0,
    missingChunks: 0,
    duplicateChunks: 0,
    reorderedChunks: 0,
    contentMismatch: 0,
    chunksAfterFinal: 0,
    duplicateFinals: 0,
    notCompleted: 0,
    noChunks: 0,
    foreignRequests: 0,
    subscriptionErrors: 0,
    chunks: 0,
    examples: [],
  };
}

/**
 * Checks every request a session sent: chunk ids exactly 1..n (no gap, no duplicate, in arrival
 * order), the chunks concatenated in arrival order equal the final message, one final, nothing after it.
 */
function checkSession(session: ChatSession, check: StreamCheck): void {
  check.subscriptionErrors += session.subscriptionErrors;
  for (const requestId of session.records.keys())
    if (!session.sent.has(requestId)) {
      check.foreignRequests += 1;
      check.examples.push(`user ${session.user.id}: messages of a request it did not send (${requestId})`);
    }
  for (const requestId of session.sent) {
    check.requests += 1;
    const record = session.records.get(requestId);
    const problems: StreamProblem[] = [];
    const final = record?.finals[0];
    if (!record || !final) {
      check.lost += 1;
      check.examples.push(`user ${session.user.id} request ${requestId}: no final message`);
      continue;
    }
    check.chunks += record.chunkIds.length;
    const ids = record.chunkIds;
    const distinct = new Set(ids);
    if (ids.length === 0) problems.push('noChunks');
    if (distinct.size !== ids.length) problems.push('duplicateChunks');
    if (ids.some((id, index) => index > 0 && id < (ids[index - 1] as number))) problems.push('reorderedChunks');
    const max = ids.length === 0 ? 0 : Math.max(...ids);
    if (distinct.size !== max || ids.some((id) => id < 1)) problems.push('missingChunks');
    if (record.chunkTexts.join('') !== (final.content ?? '')) problems.push('contentMismatch');
    if (record.chunksAfterFinal > 0) problems.push('chunksAfterFinal');
    if (record.finals.length > 1) problems.push('duplicateFinals');
    if (final.extras?.status !== 'COMPLETED') problems.push('notCompleted');
    for (const problem of problems) check[problem] += 1;
    if (problems.length === 0) check.complete += 1;
    else if (check.examples.length < 10)
      check.examples.push(
        `user ${session.user.id} request ${requestId}: ${problems.join(', ')}; chunk ids ${ids.join(',')}; status ${final.extras?.status}`,
      );
  }
}

interface TurnResult {
  product: Summary;
  floor: Summary;
  /** The `aiAction` HTTP round trip alone, inside the turn. */
  productMutation: Summary;
  floorMutation: Summary;
  /** From the worker's `completion finished` log: job picked up after it was accepted, and the job's model part. */
  workerQueueWait: Summary;
  workerDuration: Summary;
  check: StreamCheck;
}

/** The worker's own timings of the measured requests, read from its JSON log lines. */
function workerTimings(output: string[], requestIds: Set<string>): { queueWait: number[]; duration: number[] } {
  const queueWait: number[] = [];
  const duration: number[] = [];
  for (const line of output.join('').split('\n')) {
    if (!line.includes('completion finished')) continue;
    try {
      const record = JSON.parse(line) as {
        requestId?: string;
        action?: string;
        queueWaitMs?: number;
        durationMs?: number;
      };
      if (record.action !== 'chat' || !record.requestId || !requestIds.has(record.requestId)) continue;
      if (record.queueWaitMs !== undefined) queueWait.push(record.queueWaitMs);
      if (record.durationMs !== undefined) duration.push(record.durationMs);
    } catch {
      // not a log line
    }
  }
  return { queueWait, duration };
}

/** Measure 2: one user asking one question after the other; product and floor turns alternate. */
async function measureTurns(product: ChatSession, floor: ChatSession, worker: ServiceProcess): Promise<TurnResult> {
  const latencies = { product: [] as number[], floor: [] as number[] };
  const mutations = { product: [] as number[], floor: [] as number[] };
  const measured = new Set<string>();
  for (let index = 0; index < plan.turnWarmup + plan.turns; index += 1) {
    const question = `hello there, turn ${index}`;
    const productTurn = await product.ask(question);
    const floorTurn = await floor.ask(question);
    if (index >= plan.turnWarmup) {
      latencies.product.push(productTurn.ms);
      latencies.floor.push(floorTurn.ms);
      mutations.product.push(productTurn.mutationMs);
      mutations.floor.push(floorTurn.mutationMs);
      measured.add(productTurn.requestId);
    }
  }
  const check = emptyCheck();
  checkSession(product, check);
  const timings = workerTimings(worker.output, measured);
  return {
    product: summarize(latencies.product),
    floor: summarize(latencies.floor),
    productMutation: summarize(mutations.product),
    floorMutation: summarize(mutations.floor),
    workerQueueWait: summarize(timings.queueWait),
    workerDuration: summarize(timings.duration),
    check,
  };
}

interface ConcurrentResult {
  users: number;
  connectSeconds: number;
  wallSeconds: number;
  check: StreamCheck;
  turns: Summary;
  loadDuring: string;
  /** Every request id the mutations returned, to find the worker's log lines of this measure. */
  requestIds: Set<string>;
}

/** Measure 3: every user connected and subscribed first, then all of them asking at once. */
async function measureConcurrentUsers(baseUrl: string, prefix: string, users: BenchUser[]): Promise<ConcurrentResult> {
  const connectStartedAt = performance.now();
  const sessions = await mapWithConcurrency(users, 50, (user) => openChatSession(baseUrl, user, false));
  await waitForSubscriptions(prefix, sessions);
  const connectSeconds = (performance.now() - connectStartedAt) / 1_000;
  process.stderr.write(
    `measure 3: ${sessions.length} users connected and subscribed in ${connectSeconds.toFixed(1)} s\n`,
  );
  const latencies: number[] = [];
  const check = emptyCheck();
  let loadDuring = '';
  const loadTimer = setTimeout(() => {
    loadDuring = loadAverage();
  }, 5_000);
  const startedAt = performance.now();
  try {
    await Promise.all(
      sessions.map(async (session, userIndex) => {
        for (let question = 0; question < plan.questionsPerUser; question += 1) {
          try {
            const turn = await session.ask(`hello there from user ${userIndex}, question ${question}, please say hi`);
            latencies.push(turn.ms);
          } catch (error) {
            if (error instanceof MutationRefusedError) {
              check.refused += 1;
              if (check.examples.length < 10) check.examples.push(error.message);
            } else if (!(error instanceof LostRequestError)) throw error;
          }
        }
      }),
    );
    const wallSeconds = (performance.now() - startedAt) / 1_000;
    // Late chunks or duplicate finals would arrive after the last final: give them a second.
    await sleep(1_000);
    for (const session of sessions) checkSession(session, check);
    return {
      users: sessions.length,
      connectSeconds,
      wallSeconds,
      check,
      turns: summarize(latencies),
      loadDuring: loadDuring || loadAverage(),
      requestIds: new Set(sessions.flatMap((session) => [...session.sent])),
    };
  } finally {
    clearTimeout(loadTimer);
    await Promise.all(sessions.map((session) => session.close()));
  }
}

// ---------------------------------------------------------------------------------------------------
// The run.

/** Warnings and errors the services logged (pino levels ≥ 40), counted by message, for the report. */
function loggedProblems(services: ServiceProcess[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const service of services) {
    for (const line of service.output.join('').split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        const record = JSON.parse(line) as { level?: number; msg?: string };
        if ((record.level ?? 0) < 40) continue;
        const key = `level ${record.level}: ${record.msg ?? '(no message)'}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      } catch {
        // not a log line
      }
    }
  }
  return counts;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

const format = (value: number) => value.toFixed(2);
const verdict = (met: boolean) => (met ? '**met**' : '**not met**');

async function runBenchmark(): Promise<void> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'duo-bench-chat-'));
  const prefix = `bench-chat-${randomUUID()}:`;
  const children: ChildProcess[] = [];
  const services: ServiceProcess[] = [];
  const stopAll = () => {
    for (const service of services) service.child.kill('SIGTERM');
    for (const child of children) child.kill('SIGTERM');
  };
  const onSignal = () => {
    stopAll();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const load = { start: loadAverage(), measure1: '', measure2: '', measure3: '', end: '' };
  try {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const database = await spawnAndWait(
      ['--import', 'tsx', 'scripts/db-serve.ts'],
      { DATA_DIR: dataDir, DB_SERVE_PORT: String(port), LOG_LEVEL: 'warn' },
      /DATABASE_URL=(\S+)/,
    );
    children.push(database.child);
    const users = await createBenchUsers(database.match, Math.max(plan.concurrentUsers, 1));
    const historyUser = users[0] as BenchUser;
    const environment = {
      DATABASE_URL: database.match,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      REDIS_AUTOSTART: 'false',
      PORT: '0',
      METRICS_PORT: '0',
      FAKE_MODEL_LATENCY_MS: '0',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      WORKER_CONCURRENCY: String(plan.workerConcurrency),
      // GitLab's 160 per 8 hours would stop the benchmark's hundreds of requests per user.
      AI_ACTION_RATE_LIMIT: '0',
    };
    const started = await Promise.allSettled([
      startServiceProcess('src/start-api.ts', environment),
      startServiceProcess('src/start-worker.ts', environment),
      startServiceProcess('bench/floor-server.ts', {}),
    ]);
    for (const result of started) if (result.status === 'fulfilled') services.push(result.value);
    for (const result of started) if (result.status === 'rejected') throw result.reason;
    const [api, firstWorker, e2eFloor] = services as [ServiceProcess, ServiceProcess, ServiceProcess];
    const apiUrl = `http://127.0.0.1:${api.port}`;

    // Measure 2 first: its warm-up fills the history that measure 1 reads.
    load.measure2 = loadAverage();
    const productSession = await openChatSession(apiUrl, historyUser, false);
    await waitForSubscriptions(prefix, [productSession]);
    const floorSession = await openChatSession(`http://127.0.0.1:${e2eFloor.port}`, historyUser, true);
    await sleep(200); // the floor has no Redis to ask whether the subscription is in place
    const turns = await measureTurns(productSession, floorSession, firstWorker);
    await Promise.all([productSession.close(), floorSession.close()]);
    process.stderr.write(`measure 2: ${JSON.stringify(turns)}\n`);

    // Measure 1: the history is full now (the 50 most recent messages of the turns above).
    load.measure1 = loadAverage();
    const historyFloor = await spawnAndWait(
      ['--import', 'tsx', 'bench/chat.ts', '--history-floor'],
      { HISTORY_KEY: chatHistoryKey(prefix, historyUser.id), REDIS_URL: redisUrl },
      /FLOOR_PORT=(\d+)/,
    );
    children.push(historyFloor.child);
    const query = JSON.stringify({
      query:
        'query { aiMessages { nodes { id requestId content contentHtml role timestamp errors type chunkId extras { sources hasFeedback status model } } } }',
    });
    const jsonHeaders = { 'content-type': 'application/json', accept: 'application/json' };
    const targets: HttpTarget[] = [
      {
        label: 'aiMessages',
        port: api.port as number,
        method: 'POST',
        path: '/api/graphql',
        headers: { ...jsonHeaders, authorization: `Bearer ${historyUser.token}` },
        body: query,
        agent: new Agent({ keepAlive: true, maxSockets: 1 }),
      },
      {
        label: 'floor: node:http + XRANGE',
        port: Number(historyFloor.match),
        method: 'POST',
        path: '/api/graphql',
        headers: jsonHeaders,
        body: query,
        agent: new Agent({ keepAlive: true, maxSockets: 1 }),
      },
      {
        label: 'floor: API /-/health',
        port: api.port as number,
        method: 'GET',
        path: '/-/health',
        headers: {},
        agent: new Agent({ keepAlive: true, maxSockets: 1 }),
      },
    ];
    const sample = await roundTrip(targets[0] as HttpTarget);
    const sampleBody = JSON.parse(sample.body) as { data?: { aiMessages?: { nodes: unknown[] } }; errors?: unknown };
    const historyLength = sampleBody.data?.aiMessages?.nodes.length ?? 0;
    if (historyLength !== chatHistoryLimits.maxMessages)
      throw new Error(`expected a full history, got ${historyLength}: ${sample.body.slice(0, 300)}`);
    const floorSample = await roundTrip(targets[1] as HttpTarget);
    const history = await measureRoundTrips(targets);
    for (const target of targets) target.agent.destroy();
    process.stderr.write(`measure 1: ${JSON.stringify([...history])}\n`);

    // Measure 3: a worker whose fake model waits between chunks, so the streams of many users overlap.
    await firstWorker.stop();
    const retiredServices = [firstWorker];
    services.splice(services.indexOf(firstWorker), 1);
    const worker = await startServiceProcess('src/start-worker.ts', {
      ...environment,
      FAKE_MODEL_LATENCY_MS: String(plan.concurrentModelLatencyMs),
    });
    services.push(worker);
    load.measure3 = loadAverage();
    const concurrent = await measureConcurrentUsers(apiUrl, prefix, users.slice(0, plan.concurrentUsers));
    process.stderr.write(`measure 3: ${JSON.stringify({ ...concurrent, requestIds: concurrent.requestIds.size })}\n`);
    const concurrentTimings = workerTimings(worker.output, concurrent.requestIds);
    const concurrentQueueWait = summarize(concurrentTimings.queueWait);
    const concurrentDuration = summarize(concurrentTimings.duration);
    load.end = loadAverage();
    const problems = loggedProblems([...services, ...retiredServices].filter((service) => service !== e2eFloor));

    const historyProduct = history.get('aiMessages') as Summary;
    const historyBareFloor = history.get('floor: node:http + XRANGE') as Summary;
    const healthFloor = history.get('floor: API /-/health') as Summary;
    const c = concurrent.check;
    const concurrentMet =
      c.lost === 0 &&
      c.refused === 0 &&
      c.missingChunks === 0 &&
      c.duplicateChunks === 0 &&
      c.reorderedChunks === 0 &&
      c.contentMismatch === 0 &&
      c.chunksAfterFinal === 0 &&
      c.duplicateFinals === 0 &&
      c.noChunks === 0 &&
      c.foreignRequests === 0;
    const lines = [
      '# bench:chat — Duo Chat history, turn latency, and 1,000 users streaming at once',
      '',
      `Measured ${new Date().toISOString()} on this machine (${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB), Node ${process.version}, by \`npm run bench:chat\`.`,
      'API and worker as separate processes (`start:api`, `start:worker`, `NODE_ENV=production`), real Redis, PGlite',
      `served over the wire (\`db:serve\`), fake model, \`WORKER_CONCURRENCY=${plan.workerConcurrency}\`, rate limit off. The client`,
      'runs on the same cores as the servers, and other work was running on the machine (load averages below).',
      'Latencies in ms.',
      '',
      '## Targets',
      '',
      '| # | measure | target | product p50 / p90 / p99 | floor p50 / p90 / p99 | p50 ratio | verdict |',
      '|---|---|---|---|---|---:|---|',
      `| 1 | \`aiMessages\`, full history (${historyLength} messages), HTTP keep-alive, ${historyProduct.count} queries | p50 ≤ 3 ms | ${format(historyProduct.p50)} / ${format(historyProduct.p90)} / ${format(historyProduct.p99)} | bare node:http + XRANGE: ${format(historyBareFloor.p50)} / ${format(historyBareFloor.p90)} / ${format(historyBareFloor.p99)}; \`/-/health\`: ${format(healthFloor.p50)} / ${format(healthFloor.p90)} / ${format(healthFloor.p99)} | ${(historyProduct.p50 / historyBareFloor.p50).toFixed(2)}× bare, ${(historyProduct.p50 / healthFloor.p50).toFixed(2)}× health | ${verdict(historyProduct.p50 <= 3)} |`,
      `| 2 | one chat turn, mutation → final on graphql-ws, one user, ${turns.product.count} turns, fake model 0 ms | p50 ≤ 10 ms | ${format(turns.product.p50)} / ${format(turns.product.p90)} / ${format(turns.product.p99)} | \`bench/floor-server.ts\`: ${format(turns.floor.p50)} / ${format(turns.floor.p90)} / ${format(turns.floor.p99)} | ${(turns.product.p50 / turns.floor.p50).toFixed(2)}× | ${verdict(turns.product.p50 <= 10)} |`,
      `| 3 | ${concurrent.users} users at once, ${plan.questionsPerUser} questions each, streamed (fake model ${plan.concurrentModelLatencyMs} ms per chunk) | no lost or reordered chunk | ${c.requests} requests: ${c.lost} lost, ${c.reorderedChunks} reordered, ${c.missingChunks} with a gap, ${c.duplicateChunks} with a duplicate | — | — | ${verdict(concurrentMet)} |`,
      '',
      '## Measure 1: `aiMessages` over a full history',
      '',
      `${plan.historyWarmupQueries} warm-up and ${plan.historyQueries} measured queries per target, one at a time, round-robin over the three`,
      'targets (so machine noise falls on all alike), each over its own keep-alive socket (`node:http` Agent).',
      `Response bodies: product ${sample.body.length} bytes, bare floor ${floorSample.body.length} bytes.`,
      '',
      '| target | queries | p50 | p90 | p99 | max |',
      '|---|---:|---:|---:|---:|---:|',
      ...[...history].map(
        ([label, summary]) =>
          `| ${label} | ${summary.count} | ${format(summary.p50)} | ${format(summary.p90)} | ${format(summary.p99)} | ${format(summary.max)} |`,
      ),
      '',
      '## Measure 2: one chat turn',
      '',
      `One user, one graphql-ws connection, its own \`clientSubscriptionId\`; ${plan.turnWarmup} warm-up turns, then ${plan.turns}`,
      'measured, each sent when the previous final arrived ("hello there, turn N": the agent answers directly, one model',
      'call). Product and floor turns alternate. The history grows to its 50-message cap during the warm-up.',
      '',
      '| server | turns | p50 | p90 | p99 | max |',
      '|---|---:|---:|---:|---:|---:|',
      `| floor (\`bench/floor-server.ts\`) | ${turns.floor.count} | ${format(turns.floor.p50)} | ${format(turns.floor.p90)} | ${format(turns.floor.p99)} | ${format(turns.floor.max)} |`,
      `| product | ${turns.product.count} | ${format(turns.product.p50)} | ${format(turns.product.p90)} | ${format(turns.product.p99)} | ${format(turns.product.max)} |`,
      '',
      `Inside the product's turn (p50 / p90 / p99): the \`aiAction\` HTTP round trip ${format(turns.productMutation.p50)} / ${format(turns.productMutation.p90)} / ${format(turns.productMutation.p99)} (floor ${format(turns.floorMutation.p50)} / ${format(turns.floorMutation.p90)} / ${format(turns.floorMutation.p99)}); from the worker's log (whole ms), the wait from acceptance to pick-up ${turns.workerQueueWait.p50} / ${turns.workerQueueWait.p90} / ${turns.workerQueueWait.p99} and the agent's model call with its chunks published (\`durationMs\`) ${turns.workerDuration.p50} / ${turns.workerDuration.p90} / ${turns.workerDuration.p99} (${turns.workerDuration.count} jobs).`,
      '',
      `Stream check of the product's ${turns.check.requests} turns: ${turns.check.complete} complete and in order, ${turns.check.lost} lost, ${turns.check.reorderedChunks} reordered.`,
      '',
      `## Measure 3: ${concurrent.users} users at once`,
      '',
      `Each of ${concurrent.users} users has its own account, token (sent in \`connectionParams\`), graphql-ws connection and`,
      `\`clientSubscriptionId\`. All connect and subscribe first (${format(concurrent.connectSeconds)} s, confirmed with PUBSUB NUMSUB), then all`,
      `ask at once, each ${plan.questionsPerUser} questions one after the other. A request is lost without its final message`,
      `${plan.finalTimeoutMs / 1_000} s after its mutation returned. For every request the checker requires chunk ids exactly 1..n in arrival`,
      'order (no gap, no duplicate), the chunks concatenated equal to the final message, one final with status COMPLETED,',
      "no chunk after it, and no message of another user's request on the subscription.",
      '',
      '| measure | value |',
      '|---|---:|',
      `| requests sent | ${c.requests + c.refused} |`,
      `| refused by the mutation | ${c.refused} |`,
      `| complete and in order | ${c.complete} |`,
      `| lost (no final message) | ${c.lost} |`,
      `| with a missing chunk id | ${c.missingChunks} |`,
      `| with a duplicate chunk | ${c.duplicateChunks} |`,
      `| with chunks out of order | ${c.reorderedChunks} |`,
      `| chunks ≠ final content | ${c.contentMismatch} |`,
      `| chunk after the final | ${c.chunksAfterFinal} |`,
      `| more than one final | ${c.duplicateFinals} |`,
      `| no chunk at all | ${c.noChunks} |`,
      `| final not COMPLETED | ${c.notCompleted} |`,
      `| messages of another user's request | ${c.foreignRequests} |`,
      `| subscription errors | ${c.subscriptionErrors} |`,
      `| chunks received and checked | ${c.chunks} |`,
      `| wall time (all questions) | ${format(concurrent.wallSeconds)} s |`,
      `| throughput | ${(c.requests / concurrent.wallSeconds).toFixed(0)} answers/s, ${(c.chunks / concurrent.wallSeconds).toFixed(0)} chunks/s |`,
      `| turn latency p50 / p90 / p99 / max | ${format(concurrent.turns.p50)} / ${format(concurrent.turns.p90)} / ${format(concurrent.turns.p99)} / ${format(concurrent.turns.max)} |`,
      `| worker log: accepted → picked up, p50 / p90 / p99 (${concurrentQueueWait.count} chat jobs) | ${concurrentQueueWait.p50} / ${concurrentQueueWait.p90} / ${concurrentQueueWait.p99} |`,
      `| worker log: model call with chunks published (\`durationMs\`), p50 / p90 / p99 | ${concurrentDuration.p50} / ${concurrentDuration.p90} / ${concurrentDuration.p99} |`,
      '',
      ...(c.examples.length > 0
        ? ['Examples of problems:', '', ...c.examples.slice(0, 10).map((line) => `- ${line}`), '']
        : []),
      '## Service logs',
      '',
      problems.size === 0
        ? 'The API and the workers logged no warning or error during the run.'
        : `Warnings and errors the API and the workers logged during the run: ${[...problems].map(([message, count]) => `${message} (${count}×)`).join('; ')}.`,
      '',
      '## Machine state',
      '',
      '`/proc/loadavg` (1, 5, 15 min) at each step:',
      '',
      '| when | load average |',
      '|---|---|',
      `| start | ${load.start} |`,
      `| measure 2 start | ${load.measure2} |`,
      `| measure 1 start | ${load.measure1} |`,
      `| measure 3 start | ${load.measure3} |`,
      `| measure 3, 5 s in | ${concurrent.loadDuring} |`,
      `| end | ${load.end} |`,
      '',
    ];
    mkdirSync('bench/results', { recursive: true });
    writeFileSync('bench/results/chat.md', lines.join('\n'));
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await Promise.all(services.map((service) => service.stop()));
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await deleteKeys(prefix).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (process.argv.includes('--history-floor')) await serveHistoryFloor();
else await runBenchmark();
