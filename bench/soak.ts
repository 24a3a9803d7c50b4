// `npm run soak`: 10 minutes of mixed traffic against an API and a worker process (chat streams with
// subscribe/unsubscribe churn, explainCode actions, /v2/completions), sampling each process's RSS, heap and
// event-loop delay every second from its Prometheus endpoint; then 100,000 subscribe/unsubscribe cycles,
// after which no Redis channel may still be subscribed. Writes bench/results/soak.md. Not part of CI.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Client, createClient } from 'graphql-ws';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { devToken } from '../seeds/dev-world.ts';
import { toGlobalId } from '../src/gid.ts';
import { type ServiceProcess, startServiceProcess } from '../test/helpers/service-process.ts';
import { serveSeededDatabase } from '../test/helpers/test-database.ts';

const durationMs = Number(process.env.SOAK_DURATION_MS ?? 600_000);
const warmupMs = Math.min(60_000, durationMs / 5);
const churnCycles = Number(process.env.SOAK_CHURN_CYCLES ?? 100_000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `soak-${randomUUID().slice(0, 8)}:`;
const apiMetricsPort = 19_464;
const developer = { gid: toGlobalId('User', 3), token: devToken('developer') };
const owner = { gid: toGlobalId('User', 2), token: devToken('owner') };

interface Sample {
  atSeconds: number;
  apiRssMb: number;
  workerRssMb: number;
  apiHeapMb: number;
  workerHeapMb: number;
  apiLagP99Ms: number;
  workerLagP99Ms: number;
}

const counts = { chats: 0, actions: 0, completions: 0, subscribeCycles: 0, errors: 0 };

function metricValue(text: string, name: string): number {
  const line = text
    .split('\n')
    .find((candidate) => candidate.startsWith(`${name} `) || candidate.startsWith(`${name}{`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

async function scrape(port: number) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return {
    rssMb: metricValue(text, 'process_resident_memory_bytes') / 1_048_576,
    heapMb: metricValue(text, 'nodejs_heap_size_used_bytes') / 1_048_576,
    lagP99Ms: metricValue(text, 'nodejs_eventloop_lag_p99_seconds') * 1_000,
  };
}

function connect(baseUrl: string, token: string): Client {
  return createClient({
    url: `${baseUrl.replace('http', 'ws')}/api/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    lazy: false,
    retryAttempts: 5,
  });
}

async function graphql(baseUrl: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${baseUrl}/api/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: Record<string, { requestId?: string } | null>; errors?: unknown[] };
}

/** One chat turn with a fresh subscription that is closed afterwards: the churn a browser tab makes. */
async function chatTurn(baseUrl: string, client: Client, user: { gid: string; token: string }, turn: number) {
  const clientSubscriptionId = randomUUID();
  let resolveFinal!: () => void;
  const final = new Promise<void>((resolve) => {
    resolveFinal = resolve;
  });
  let requestId: string | undefined;
  const seen = new Set<string>();
  const unsubscribe = client.subscribe<{
    aiCompletionResponse: { requestId: string; chunkId: number | null; role: string };
  }>(
    {
      query:
        'subscription ($userId: UserID, $id: String) { aiCompletionResponse(userId: $userId, aiAction: CHAT, clientSubscriptionId: $id) { requestId chunkId role } }',
      variables: { userId: user.gid, id: clientSubscriptionId },
    },
    {
      next: (result) => {
        const message = result.data?.aiCompletionResponse;
        if (message?.chunkId === null && message.role === 'ASSISTANT') {
          seen.add(message.requestId);
          if (message.requestId === requestId) resolveFinal();
        }
      },
      error: () => {
        counts.errors += 1;
        resolveFinal();
      },
      complete: () => undefined,
    },
  );
  await new Promise((resolve) => setTimeout(resolve, 50)); // let the server register the subscription
  const body = await graphql(
    baseUrl,
    user.token,
    'mutation ($content: String!, $id: String) { aiAction(input: { chat: { content: $content }, clientSubscriptionId: $id }) { requestId } }',
    { content: `Soak question ${turn}: tell me about merge trains`, id: clientSubscriptionId },
  );
  requestId = body.data?.aiAction?.requestId ?? undefined;
  if (!requestId) counts.errors += 1;
  else if (seen.has(requestId)) resolveFinal();
  await Promise.race([final, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  unsubscribe();
  counts.chats += 1;
}

async function main() {
  const database = await serveSeededDatabase();
  const environment = {
    DATABASE_URL: database.url,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: prefix,
    REDIS_AUTOSTART: 'false',
    PORT: '0',
    METRICS_PORT: String(apiMetricsPort),
    AI_ACTION_RATE_LIMIT: '0',
    CODE_SUGGESTIONS_RATE_LIMIT: '100000',
    FAKE_MODEL_LATENCY_MS: '5',
    LOG_LEVEL: 'warn',
  };
  const services: ServiceProcess[] = [];
  const samples: Sample[] = [];
  try {
    const api = await startServiceProcess('src/start-api.ts', { ...environment, LOG_LEVEL: 'info' });
    services.push(api);
    const worker = await startServiceProcess('src/start-worker.ts', { ...environment, LOG_LEVEL: 'info' });
    services.push(worker);
    const baseUrl = `http://127.0.0.1:${api.port}`;
    const startedAt = Date.now();
    let running = true;
    const sampler = setInterval(() => {
      Promise.all([scrape(apiMetricsPort), scrape(apiMetricsPort + 1)])
        .then(([apiMetrics, workerMetrics]) =>
          samples.push({
            atSeconds: (Date.now() - startedAt) / 1_000,
            apiRssMb: apiMetrics.rssMb,
            workerRssMb: workerMetrics.rssMb,
            apiHeapMb: apiMetrics.heapMb,
            workerHeapMb: workerMetrics.heapMb,
            apiLagP99Ms: apiMetrics.lagP99Ms,
            workerLagP99Ms: workerMetrics.lagP99Ms,
          }),
        )
        .catch(() => undefined);
    }, 1_000);

    const chatLanes = Array.from({ length: 16 }, (_, lane) => {
      const user = lane % 2 === 0 ? developer : owner;
      const client = connect(baseUrl, user.token);
      return (async () => {
        for (let turn = 0; running; turn++)
          await chatTurn(baseUrl, client, user, turn).catch(() => (counts.errors += 1));
        await client.dispose();
      })();
    });
    const actionLanes = Array.from({ length: 3 }, () =>
      (async () => {
        while (running) {
          const body = await graphql(
            baseUrl,
            developer.token,
            'mutation { aiAction(input: { explainCode: { resourceId: "gid://gitlab/Project/1", messages: [{ role: "user", content: "def add(a, b): return a + b" }] } }) { requestId } }',
            {},
          ).catch(() => undefined);
          if (body?.data?.aiAction?.requestId) counts.actions += 1;
          else counts.errors += 1;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      })(),
    );
    const completionLanes = Array.from({ length: 3 }, () =>
      (async () => {
        while (running) {
          const response = await fetch(`${baseUrl}/v2/completions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${developer.token}` },
            body: JSON.stringify({
              current_file: {
                file_name: 'soak.py',
                content_above_cursor: 'def is_even(n: int) ->',
                content_below_cursor: '',
              },
            }),
          }).catch(() => undefined);
          if (response?.ok) counts.completions += 1;
          else counts.errors += 1;
          await response?.arrayBuffer().catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })(),
    );
    await new Promise((resolve) => setTimeout(resolve, durationMs));
    running = false;
    await Promise.all([...chatLanes, ...actionLanes, ...completionLanes]);
    clearInterval(sampler);
    const trafficEndedAt = Date.now();

    // 100,000 subscribe/unsubscribe cycles on one connection, then: is anything still subscribed?
    const churnClient = connect(baseUrl, developer.token);
    const beforeChurn = await scrape(apiMetricsPort);
    for (let cycle = 0; cycle < churnCycles; cycle++) {
      const unsubscribe = churnClient.subscribe(
        {
          query:
            'subscription ($userId: UserID, $id: String) { aiCompletionResponse(userId: $userId, aiAction: CHAT, clientSubscriptionId: $id) { id } }',
          variables: { userId: developer.gid, id: `churn-${cycle}` },
        },
        { next: () => undefined, error: () => (counts.errors += 1), complete: () => undefined },
      );
      // Every 100th subscription lives long enough to be registered in Redis before it is closed.
      if (cycle % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      unsubscribe();
      counts.subscribeCycles += 1;
      if (cycle % 1_000 === 999) await new Promise((resolve) => setImmediate(resolve));
    }
    await churnClient.dispose();
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const redis = new Redis(redisUrl);
    const leftChannels = (await redis.pubsub('CHANNELS', `${prefix}aiCompletionResponse:*`)) as string[];
    redis.disconnect();
    const afterChurn = await scrape(apiMetricsPort);
    writeReport(samples, {
      trafficSeconds: (trafficEndedAt - startedAt) / 1_000,
      leftChannels,
      beforeChurn,
      afterChurn,
    });
  } finally {
    await Promise.all(services.map((service) => service.stop()));
    await database.stop();
    // Tens of thousands of request records are left (each with its TTL): delete them in batches.
    const redis = new Redis(redisUrl);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    redis.disconnect();
  }
}

/** Least-squares slope in MB per minute. */
function slopePerMinute(points: { x: number; y: number }[]): number {
  const n = points.length;
  const meanX = points.reduce((sum, point) => sum + point.x, 0) / n;
  const meanY = points.reduce((sum, point) => sum + point.y, 0) / n;
  const numerator = points.reduce((sum, point) => sum + (point.x - meanX) * (point.y - meanY), 0);
  const denominator = points.reduce((sum, point) => sum + (point.x - meanX) ** 2, 0);
  return (numerator / denominator) * 60;
}

function writeReport(
  samples: Sample[],
  end: {
    trafficSeconds: number;
    leftChannels: string[];
    beforeChurn: Awaited<ReturnType<typeof scrape>>;
    afterChurn: Awaited<ReturnType<typeof scrape>>;
  },
) {
  const afterWarmup = samples.filter((sample) => sample.atSeconds * 1_000 >= warmupMs);
  const half = Math.floor(afterWarmup.length / 2);
  const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const percentile = (values: number[], fraction: number) =>
    [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil(fraction * values.length) - 1)] ??
    Number.NaN;
  const rows = [];
  for (let minute = 0; minute * 60 < end.trafficSeconds; minute++) {
    const inMinute = samples.filter(
      (sample) => sample.atSeconds >= minute * 60 && sample.atSeconds < (minute + 1) * 60,
    );
    if (inMinute.length === 0) continue;
    rows.push(
      `| ${minute + 1} | ${mean(inMinute.map((s) => s.apiRssMb)).toFixed(1)} | ${mean(inMinute.map((s) => s.apiHeapMb)).toFixed(1)} | ${percentile(
        inMinute.map((s) => s.apiLagP99Ms),
        0.5,
      ).toFixed(
        1,
      )} | ${mean(inMinute.map((s) => s.workerRssMb)).toFixed(1)} | ${mean(inMinute.map((s) => s.workerHeapMb)).toFixed(1)} | ${percentile(
        inMinute.map((s) => s.workerLagP99Ms),
        0.5,
      ).toFixed(1)} |`,
    );
  }
  const trend = (pick: (sample: Sample) => number) =>
    slopePerMinute(afterWarmup.map((sample) => ({ x: sample.atSeconds, y: pick(sample) })));
  const halves = (pick: (sample: Sample) => number) =>
    `${mean(afterWarmup.slice(0, half).map(pick)).toFixed(1)} → ${mean(afterWarmup.slice(half).map(pick)).toFixed(1)}`;
  const loadAverage = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const report = `# Soak (\`npm run soak\`)

${new Date().toISOString()}; ${Math.round(end.trafficSeconds)} s of mixed traffic against one API process and one worker
process (separate Node processes, PGlite over the wire, the machine's Redis), sampled every second from their
\`/metrics\`; the first ${warmupMs / 1_000} s are warm-up. Load average at the end: ${loadAverage}.

Traffic: 16 chat lanes (two users, a new subscription per turn, closed after the answer), 3 explainCode lanes,
3 \`/v2/completions\` lanes; fake model at 5 ms per chunk.

| done | count |
|---|---:|
| chat turns (subscribe, ask, stream, unsubscribe) | ${counts.chats} |
| explainCode actions | ${counts.actions} |
| code completions | ${counts.completions} |
| errors (any lane) | ${counts.errors} |
| subscribe/unsubscribe cycles after the traffic | ${counts.subscribeCycles} |

## Memory and event loop, per minute

| minute | API RSS MB | API heap MB | API loop lag p99 ms (median of samples) | worker RSS MB | worker heap MB | worker loop lag p99 ms |
|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

## Growth after warm-up

| process | RSS trend (least squares) | heap trend | RSS first half → second half | heap first half → second half |
|---|---:|---:|---|---|
| API | ${trend((s) => s.apiRssMb).toFixed(2)} MB/min | ${trend((s) => s.apiHeapMb).toFixed(2)} MB/min | ${halves((s) => s.apiRssMb)} MB | ${halves((s) => s.apiHeapMb)} MB |
| worker | ${trend((s) => s.workerRssMb).toFixed(2)} MB/min | ${trend((s) => s.workerHeapMb).toFixed(2)} MB/min | ${halves((s) => s.workerRssMb)} MB | ${halves((s) => s.workerHeapMb)} MB |

## Subscription churn

${counts.subscribeCycles} subscribe/unsubscribe cycles on one connection. Redis channels of this run still subscribed
3 s later: **${end.leftChannels.length}**${end.leftChannels.length > 0 ? ` (${end.leftChannels.slice(0, 5).join(', ')})` : ''}.
API heap before → after the churn: ${end.beforeChurn.heapMb.toFixed(1)} → ${end.afterChurn.heapMb.toFixed(1)} MB; RSS
${end.beforeChurn.rssMb.toFixed(1)} → ${end.afterChurn.rssMb.toFixed(1)} MB.
`;
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/soak.md', report);
  console.log(report);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
