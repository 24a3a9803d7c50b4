// `npm run bench:completions`: POST /v2/completions through the real REST handler (token auth, Redis rate limit,
// validation, moderation with secret redaction, prompt building, metrics, access log) with the fake model at zero
// latency, against a floor: a bare node:http server that parses the same JSON and calls the same fake directly.
// Requests per second at 64 keep-alive connections, latency p50/p99, and the overhead at 1 connection (where
// latency is per-request work, not queueing). Payloads: HumanEval infilling tasks from /work/shared/data.
// Each server runs in its own child process; the load generator runs here. Writes bench/results/completions.md.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { type Agent, createServer, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { z } from 'zod';

const dataFile = '/work/shared/data/code-completion/HumanEval-SingleLineInfilling.jsonl.gz';
const token = 'glpat-dev-developer';
/** 64 connections: the brief's load level, a busy editor fleet behind one replica. */
const connections = 64;
/** Seconds per measured phase: long enough for stable percentiles on a shared 2-core box, short enough to run often. */
const phaseSeconds = 8;
const sequentialSeconds = 4;
const warmupSeconds = 2;

const task = z.object({ task_id: z.string(), prompt: z.string(), suffix: z.string() });

function loadBodies(): string[] {
  const lines = gunzipSync(readFileSync(dataFile)).toString('utf8').split('\n').filter(Boolean);
  return lines.map((line, index) => {
    const parsed = task.parse(JSON.parse(line));
    return JSON.stringify({
      prompt_version: 1,
      project_path: 'gitlab-org/bench',
      project_id: 278964,
      current_file: {
        file_name: `human_eval_${index}.py`,
        content_above_cursor: parsed.prompt,
        content_below_cursor: parsed.suffix,
      },
      telemetry: [
        { model_engine: 'fake', model_name: 'fake-model', lang: 'python', requests: 1, accepts: 1, errors: 0 },
      ],
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Servers (child processes)

async function serveProduct(): Promise<number> {
  const { createSeededEmbeddedDatabase } = await import('../test/helpers/test-database.ts');
  const { createTokenAuthenticator } = await import('../src/auth/token-authenticator.ts');
  const { loadConfig } = await import('../src/config.ts');
  const { createFakeProvider } = await import('../src/llm/providers/fake/fake-provider.ts');
  const { createMetrics } = await import('../src/metrics/create-metrics.ts');
  const { createRestHandler } = await import('../src/rest/create-rest-handler.ts');
  const { loadRestConfig } = await import('../src/rest/rest-config.ts');
  const { createRedis, waitUntilReady } = await import('../src/redis.ts');
  const environment = {
    NODE_ENV: 'production',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: process.env.BENCH_PREFIX ?? '',
    USE_FAKE_MODELS: 'true',
    FAKE_MODEL_LATENCY_MS: '0',
    // The limit is still consulted on every request (one Redis round trip); it must just never refuse here.
    CODE_SUGGESTIONS_RATE_LIMIT: '100000',
  };
  const config = loadConfig(environment);
  const database = await createSeededEmbeddedDatabase();
  const redis = createRedis(config.redisUrl, 'command', 'bench-completions');
  await waitUntilReady(redis);
  const fake = createFakeProvider({ latencyMs: 0 });
  // Real JSON serialization of every access line, written to /dev/null: the cost of logging without the disk.
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const handler = createRestHandler({
    config,
    logger,
    authenticator: createTokenAuthenticator(database.db, { ttlMs: 30_000 }),
    providers: { forFeature: () => fake, list: () => [fake] },
    featureFlags: { isEnabled: async () => false },
    redis,
    metrics: createMetrics(),
    restConfig: loadRestConfig(environment),
  });
  const server = createServer((request, response) => {
    void handler(request, response).then((handled) => {
      if (!handled) response.writeHead(404).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

async function serveFloor(): Promise<number> {
  const { createFakeProvider } = await import('../src/llm/providers/fake/fake-provider.ts');
  const fake = createFakeProvider({ latencyMs: 0 });
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        current_file: { content_above_cursor: string; content_below_cursor: string };
      };
      void fake
        .complete({
          messages: [
            {
              role: 'user',
              content: `${body.current_file.content_above_cursor}${body.current_file.content_below_cursor}`,
            },
          ],
        })
        .then((result) => {
          const text = JSON.stringify({ choices: [{ text: result.text, index: 0, finish_reason: 'length' }] });
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
          response.end(text);
        });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Load generator

interface PhaseResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

function post(agent: Agent, port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        agent,
        host: '127.0.0.1',
        port,
        path: '/v2/completions',
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function runPhase(port: number, bodies: string[], concurrency: number, seconds: number): Promise<PhaseResult> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const body = bodies[next++ % bodies.length] as string;
        const sent = performance.now();
        try {
          const status = await post(agent, port, body);
          if (status !== 200) errors++;
        } catch {
          errors++;
        }
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((left, right) => left - right);
  return {
    requests: latencies.length,
    errors,
    seconds: elapsed,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
  };
}

async function startChild(kind: 'product' | 'floor', prefix: string) {
  const child = spawn(
    process.execPath,
    [
      // BENCH_PROFILE=<dir> writes a CPU profile of each server process there.
      ...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []),
      '--import',
      'tsx',
      path.resolve(import.meta.dirname, 'completions.ts'),
      'serve',
      kind,
    ],
    {
      env: { ...process.env, BENCH_PREFIX: prefix },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      const match = /^PORT (\d+)$/m.exec(buffer);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)));
  });
  return {
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function cleanupPrefix(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  try {
    let cursor = '0';
    do {
      const [nextCursor, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = nextCursor;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

function format(value: number): string {
  return value.toFixed(2);
}

async function measure(kind: 'product' | 'floor', bodies: string[], prefix: string) {
  const server = await startChild(kind, prefix);
  try {
    await runPhase(server.port, bodies, connections, warmupSeconds);
    const loaded = await runPhase(server.port, bodies, connections, phaseSeconds);
    const sequential = await runPhase(server.port, bodies, 1, sequentialSeconds);
    return { loaded, sequential };
  } finally {
    await server.stop();
  }
}

async function main(): Promise<void> {
  const [mode, kind] = process.argv.slice(2);
  if (mode === 'serve') {
    const port = kind === 'floor' ? await serveFloor() : await serveProduct();
    process.stdout.write(`PORT ${port}\n`);
    process.once('SIGTERM', () => process.exit(0));
    return;
  }
  const bodies = loadBodies();
  const prefix = `bench-${randomUUID()}:`;
  const loadBefore = loadavg();
  const floor = await measure('floor', bodies, prefix);
  const product = await measure('product', bodies, prefix);
  const loadAfter = loadavg();
  await cleanupPrefix(prefix);

  const rows = [
    ['floor (bare http + fake)', floor],
    ['product (/v2/completions)', product],
  ] as const;
  const table = [
    '| server | connections | requests | errors | req/s | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.flatMap(([name, result]) => [
      `| ${name} | ${connections} | ${result.loaded.requests} | ${result.loaded.errors} | ${Math.round(result.loaded.requests / result.loaded.seconds)} | ${format(result.loaded.p50)} | ${format(result.loaded.p99)} |`,
      `| ${name} | 1 | ${result.sequential.requests} | ${result.sequential.errors} | ${Math.round(result.sequential.requests / result.sequential.seconds)} | ${format(result.sequential.p50)} | ${format(result.sequential.p99)} |`,
    ]),
  ].join('\n');
  const throughput = product.loaded.requests / product.loaded.seconds;
  const overheadP50 = product.sequential.p50 - floor.sequential.p50;
  const overheadP99 = product.sequential.p99 - floor.sequential.p99;
  const verdict = [
    `| target | measured | met |`,
    `|---|---:|:---:|`,
    `| ≥ 3,000 req/s at ${connections} connections | ${Math.round(throughput)} req/s | ${throughput >= 3000 ? 'yes' : 'no'} |`,
    `| overhead p50 ≤ 1 ms (1 connection, product − floor) | ${format(overheadP50)} ms | ${overheadP50 <= 1 ? 'yes' : 'no'} |`,
    `| overhead p99 ≤ 5 ms (1 connection, product − floor) | ${format(overheadP99)} ms | ${overheadP99 <= 5 ? 'yes' : 'no'} |`,
    `| overhead p50 at ${connections} connections (product − floor) | ${format(product.loaded.p50 - floor.loaded.p50)} ms | — |`,
  ].join('\n');
  const report = `# bench:completions — POST /v2/completions with the fake model at zero latency

Measured ${new Date().toISOString()} on this machine (2 cores, shared with other engineers' work), Node ${process.version}.
Load average (1/5/15 min): before ${loadBefore.map((value) => value.toFixed(2)).join(' / ')}, after ${loadAfter.map((value) => value.toFixed(2)).join(' / ')}.

Product: \`createRestHandler\` on node:http in its own process: token authentication (PGlite, 30 s cache), Redis rate
limit (one Lua round trip per request), zod validation, the \`rules\` moderation with secret/PII redaction, prompt
building, metrics, a JSON access log line to /dev/null, the fake provider (chat path) and post-processing.
Floor: a bare node:http server in its own process that parses the same JSON and calls the same fake provider directly.
Client: keep-alive node:http agents in this process (so the client shares the 2 cores with the server).
Payloads: the ${bodies.length} tasks of \`HumanEval-SingleLineInfilling.jsonl.gz\` round-robin (prefix + suffix up to ~2.8 KB).
Phases: ${warmupSeconds} s warm-up, ${phaseSeconds} s at ${connections} connections, ${sequentialSeconds} s at 1 connection.

${table}

${verdict}
`;
  writeFileSync(path.resolve(import.meta.dirname, 'results/completions.md'), report);
  process.stdout.write(report);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
