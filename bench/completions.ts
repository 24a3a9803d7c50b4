// `npm run bench:completions`: POST /v2/completions through the real REST handler (token auth, Redis rate limit,
// validation, moderation with secret redaction, prompt building, metrics, access log) with the fake model at zero
// latency, against a floor: a bare node:http server that parses the same JSON and calls the same fake directly.
// Requests per second at 64 keep-alive connections, latency p50/p99, and the overhead at 1 connection (where
// latency is per-request work, not queueing). Payloads: HumanEval infilling tasks from /work/shared/data.
//
// The same run measures the peer comparison of issue #7 over one zero-latency OpenAI-compatible stand-in upstream
// (bench/standin-server.ts, its own process): the stand-in called directly (the proxies' floor), the product with
// its self-hosted provider pointed at it, and the peer gateway `@portkey-ai/gateway` in front of it, sent the
// same upstream request the product sends. The peer is a bench-only package: `npm install --prefix bench/peer
// --ignore-scripts --no-audit --no-fund`; without it the peer rows say so and the rest still runs.
//
// Each server runs in its own child process; the load generator runs here. Writes bench/results/completions.md.
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { type Agent, createServer, Agent as HttpAgent, request as httpRequest } from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import { isDeepStrictEqual } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { pino } from 'pino';
import { z } from 'zod';

const dataFile = '/work/shared/data/code-completion/HumanEval-SingleLineInfilling.jsonl.gz';
const token = 'glpat-dev-developer';
/** 64 connections: the brief's load level, a busy editor fleet behind one replica. */
const connections = 64;
/** Seconds per measured phase: long enough for stable percentiles on a shared 2-core box, short enough to run often. */
const phaseSeconds = Number(process.env.BENCH_PHASE_SECONDS ?? 8);
const sequentialSeconds = Number(process.env.BENCH_SEQUENTIAL_SECONDS ?? 4);
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 2);

/** The peer gateway's entry point, from the bench-only package in bench/peer. */
const peerPackage = path.resolve(import.meta.dirname, 'peer/node_modules/@portkey-ai/gateway');
const peerEntry = path.join(peerPackage, 'build/start-server.js');
/** `SELF_HOSTED_MODEL_NAME`: no FIM family in the name, which does not matter on the chat path the product takes. */
const selfHostedModel = 'bench-code-model';

const task = z.object({ task_id: z.string(), prompt: z.string(), suffix: z.string() });

interface Task {
  fileName: string;
  prefix: string;
  suffix: string;
}

function loadTasks(): Task[] {
  const lines = gunzipSync(readFileSync(dataFile)).toString('utf8').split('\n').filter(Boolean);
  return lines.map((line, index) => {
    const parsed = task.parse(JSON.parse(line));
    return { fileName: `human_eval_${index}.py`, prefix: parsed.prompt, suffix: parsed.suffix };
  });
}

/** The `/v2/completions` body an editor sends. */
function completionsBody(item: Task): string {
  return JSON.stringify({
    prompt_version: 1,
    project_path: 'gitlab-org/bench',
    project_id: 278964,
    current_file: {
      file_name: item.fileName,
      content_above_cursor: item.prefix,
      content_below_cursor: item.suffix,
    },
    telemetry: [{ model_engine: 'fake', model_name: 'fake-model', lang: 'python', requests: 1, accepts: 1, errors: 0 }],
  });
}

/**
 * The upstream request the product sends for a task, built with the product's own functions: with no
 * `model_provider` in the request, `/v2/completions` asks the registry's fallback chain, which has no
 * `completeCode`, so the self-hosted provider gets a chat completion (`POST /v1/chat/completions`, not the FIM
 * `/v1/completions`). The preflight checks that the stand-in receives the same body from the product and the peer.
 */
async function upstreamBodies(tasks: Task[]): Promise<string[]> {
  const { buildCodePrompt } = await import('../src/rest/code-suggestions/build-code-prompt.ts');
  const { detectLanguage } = await import('../src/rest/code-suggestions/detect-language.ts');
  const { chatRequestFor } = await import('../src/rest/code-suggestions/generate-code-suggestion.ts');
  const { loadRestConfig } = await import('../src/rest/rest-config.ts');
  const restConfig = loadRestConfig({});
  return tasks.map((item) => {
    const { language } = detectLanguage(item.fileName);
    const prompt = buildCodePrompt({
      prefix: item.prefix,
      suffix: item.suffix,
      fileName: item.fileName,
      language,
      budgetTokens: restConfig.CODE_SUGGESTIONS_PROMPT_BUDGET_TOKENS,
    });
    const request = chatRequestFor({
      prompt,
      fileName: item.fileName,
      language,
      context: [],
      maxTokens: restConfig.CODE_SUGGESTIONS_MAX_OUTPUT_TOKENS,
    });
    return JSON.stringify({
      model: selfHostedModel,
      messages: [
        ...(request.system === undefined ? [] : [{ role: 'system', content: request.system }]),
        ...request.messages.map((message) => ({ role: message.role, content: message.content })),
      ],
      max_tokens: request.maxTokens,
      temperature: request.temperature,
      stream: false,
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Servers (child processes)

type ServeKind = 'product' | 'product-self-hosted' | 'floor';

async function serveProduct(selfHosted: boolean): Promise<number> {
  const { createSeededEmbeddedDatabase } = await import('../test/helpers/test-database.ts');
  const { createTokenAuthenticator } = await import('../src/auth/token-authenticator.ts');
  const { loadConfig } = await import('../src/config.ts');
  const { createFakeProvider } = await import('../src/llm/providers/fake/fake-provider.ts');
  const { createProviderRegistry } = await import('../src/llm/registry.ts');
  const { createMetrics } = await import('../src/metrics/create-metrics.ts');
  const { createRestHandler } = await import('../src/rest/create-rest-handler.ts');
  const { loadRestConfig } = await import('../src/rest/rest-config.ts');
  const { createRedis, waitUntilReady } = await import('../src/redis.ts');
  const upstream = process.env.BENCH_UPSTREAM_URL;
  if (selfHosted && !upstream) throw new Error('BENCH_UPSTREAM_URL is required for product-self-hosted');
  const environment = {
    NODE_ENV: 'production',
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    REDIS_KEY_PREFIX: process.env.BENCH_PREFIX ?? '',
    ...(selfHosted
      ? // The deployment's own switches: the registry builds the fallback chain (breakers in Redis, timeout,
        // retries) over the OpenAI-compatible provider, as src/bootstrap.ts does.
        { USE_FAKE_MODELS: 'false', SELF_HOSTED_MODEL_URL: upstream, SELF_HOSTED_MODEL_NAME: selfHostedModel }
      : { USE_FAKE_MODELS: 'true', FAKE_MODEL_LATENCY_MS: '0' }),
    // The limit is still consulted on every request (one Redis round trip); it must just never refuse here.
    CODE_SUGGESTIONS_RATE_LIMIT: '100000',
  };
  const config = loadConfig(environment);
  const database = await createSeededEmbeddedDatabase();
  const redis = createRedis(config.redisUrl, 'command', 'bench-completions');
  await waitUntilReady(redis);
  // Real JSON serialization of every access line, written to /dev/null: the cost of logging without the disk.
  const logger = pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false }));
  const fake = createFakeProvider({ latencyMs: 0 });
  const providers = selfHosted
    ? createProviderRegistry(config, { redis, logger })
    : { forFeature: () => fake, list: () => [fake] };
  const handler = createRestHandler({
    config,
    logger,
    authenticator: createTokenAuthenticator(database.db, { ttlMs: 30_000 }),
    providers,
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

/** Where one row's requests go: the product and the floor take `/v2/completions`, the rest an OpenAI request. */
interface Target {
  port: number;
  path: string;
  headers: Record<string, string>;
  bodies: string[];
}

interface PhaseResult {
  requests: number;
  errors: number;
  seconds: number;
  p50: number;
  p99: number;
  /** Status and start of the body of the first failed request, if any. */
  firstError?: string;
}

interface Answer {
  status: number;
  /** Only read for failures and preflight checks, so the measured client does no extra work on success. */
  body?: string;
}

function percentile(sorted: number[], fraction: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number;
}

function post(agent: Agent, target: Target, body: string, readBody = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {
        agent,
        host: '127.0.0.1',
        port: target.port,
        path: target.path,
        method: 'POST',
        headers: { ...target.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        if (status === 200 && !readBody) {
          response.resume();
          response.on('end', () => resolve({ status }));
        } else {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
        }
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

async function runPhase(target: Target, concurrency: number, seconds: number): Promise<PhaseResult> {
  const agent = new HttpAgent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const body = target.bodies[next++ % target.bodies.length] as string;
        const sent = performance.now();
        try {
          const answer = await post(agent, target, body);
          if (answer.status !== 200) {
            errors++;
            firstError ??= `HTTP ${answer.status}: ${answer.body?.slice(0, 300) ?? ''}`;
          }
        } catch (error) {
          errors++;
          firstError ??= String(error);
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
    ...(firstError === undefined ? {} : { firstError }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Child processes

interface Child {
  port: number;
  /** The last few KB of what the process wrote (stdout and stderr), for error reports. */
  output(): string;
  /** Writes a command line to the process and resolves with the first later stdout line starting with `reply `. */
  ask(command: string, reply: string): Promise<string>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcessByStdio<Writable, Readable, Readable>>();
// Children never outlive the bench, even when it fails between a start and its `finally`.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Spawns a server and resolves once it is ready: `ready` matched on its stdout (its first group is the port when
 * `port` is not given). Its output is kept (a tail only, so a chatty server cannot grow this process) and also
 * copied to stderr when `echo` is set.
 */
async function startProcess(options: {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  ready: RegExp;
  port?: number;
  echo?: boolean;
  startTimeoutMs?: number;
}): Promise<Child> {
  const child = spawn(process.execPath, options.args, { env: options.env, stdio: ['pipe', 'pipe', 'pipe'] });
  running.add(child);
  let tail = '';
  let lines = '';
  const waiters: { prefix: string; resolve: (line: string) => void }[] = [];
  const keep = (text: string) => {
    tail = (tail + text).slice(-8_000);
  };
  child.stderr.on('data', (chunk: Buffer) => {
    keep(chunk.toString('utf8'));
    if (options.echo) process.stderr.write(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  exited.then(() => running.delete(child));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.name} not ready after ${options.startTimeoutMs ?? 60_000} ms:\n${tail}`)),
      options.startTimeoutMs ?? 60_000,
    );
    let ready = false;
    child.stdout.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      keep(text);
      lines += text;
      if (!ready) {
        const match = options.ready.exec(tail);
        if (match) {
          ready = true;
          clearTimeout(timer);
          resolve(options.port ?? Number(match[1]));
        }
      }
      let newline = lines.indexOf('\n');
      while (newline >= 0) {
        const line = lines.slice(0, newline);
        lines = lines.slice(newline + 1);
        const index = waiters.findIndex((waiter) => line.startsWith(`${waiter.prefix} `));
        if (index >= 0) waiters.splice(index, 1)[0]?.resolve(line.slice(line.indexOf(' ') + 1));
        newline = lines.indexOf('\n');
      }
      if (lines.length > 1_000_000) lines = '';
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${options.name} exited with ${code} before it was ready:\n${tail}`));
    });
  });
  return {
    port,
    output: () => tail,
    ask: (command, reply) =>
      new Promise<string>((resolve) => {
        waiters.push({ prefix: reply, resolve });
        child.stdin.write(`${command}\n`);
      }),
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

function profileArgs(): string[] {
  // BENCH_PROFILE=<dir> writes a CPU profile of each server process there.
  return process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
}

function startServer(kind: ServeKind, prefix: string, upstreamUrl?: string): Promise<Child> {
  return startProcess({
    name: kind,
    args: [...profileArgs(), '--import', 'tsx', path.resolve(import.meta.dirname, 'completions.ts'), 'serve', kind],
    env: { ...process.env, BENCH_PREFIX: prefix, ...(upstreamUrl ? { BENCH_UPSTREAM_URL: upstreamUrl } : {}) },
    ready: /^PORT (\d+)$/m,
    echo: true,
  });
}

function startStandin(): Promise<Child> {
  return startProcess({
    name: 'stand-in',
    args: [...profileArgs(), '--import', 'tsx', path.resolve(import.meta.dirname, 'standin-server.ts')],
    env: process.env,
    ready: /^PORT (\d+)$/m,
    echo: true,
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * The peer as its README runs it (`npx @portkey-ai/gateway` is `node build/start-server.js`): `--port=<n>`
 * and `--headless` (no log UI) are its only flags; NODE_ENV=production as for the product. Its stdout is not
 * echoed: it clears the terminal and draws a spinner.
 */
async function startPeer(): Promise<Child> {
  const port = await freePort();
  return startProcess({
    name: 'Portkey gateway',
    args: [...profileArgs(), peerEntry, `--port=${port}`, '--headless'],
    env: { ...process.env, NODE_ENV: 'production' },
    ready: /Ready for connections/,
    port,
  });
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

interface Measured {
  loaded: PhaseResult;
  sequential: PhaseResult;
  /** Requests the stand-in received during the phases, for rows that go through it. */
  upstreamRequests?: number;
}

async function measureTarget(target: Target, standin?: Child): Promise<Measured> {
  await runPhase(target, connections, warmupSeconds);
  const before = standin ? (JSON.parse(await standin.ask('STATS', 'STATS')) as { total: number }).total : 0;
  const loaded = await runPhase(target, connections, phaseSeconds);
  const sequential = await runPhase(target, 1, sequentialSeconds);
  const after = standin ? (JSON.parse(await standin.ask('STATS', 'STATS')) as { total: number }).total : 0;
  return { loaded, sequential, ...(standin ? { upstreamRequests: after - before } : {}) };
}

async function measure(kind: 'product' | 'floor', bodies: string[], prefix: string): Promise<Measured> {
  const server = await startServer(kind, prefix);
  try {
    return await measureTarget({ port: server.port, path: '/v2/completions', headers: gitlabHeaders, bodies });
  } finally {
    await server.stop();
  }
}

const gitlabHeaders = { authorization: `Bearer ${token}` };

/**
 * Portkey's headers for an OpenAI-compatible server of one's own: not in the package README, but in Portkey's docs
 * ("Custom hosts": `x-portkey-custom-host`, with the `/v1`) and its source (the `x-portkey-*` constants).
 */
function peerHeaders(upstreamUrl: string): Record<string, string> {
  return {
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `${upstreamUrl}/v1`,
    authorization: 'Bearer sk-bench',
  };
}

interface UpstreamRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

/** One request through a proxy, and what the stand-in received for it. */
async function throughProxy(target: Target, body: string, standin: Child) {
  const agent = new HttpAgent({ keepAlive: false });
  try {
    const answer = await post(agent, target, body, true);
    const upstream = JSON.parse(await standin.ask('LAST', 'LAST')) as UpstreamRequest | null;
    return { answer, upstream };
  } finally {
    agent.destroy();
  }
}

interface PeerOutcome {
  /** Why the peer has no numbers, with its error output. */
  failure?: string;
  measured?: Measured;
  /** Preflight findings, one line each. */
  checks: string[];
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const [mode, kind] = process.argv.slice(2);
  if (mode === 'serve') {
    const port =
      kind === 'floor'
        ? await serveFloor()
        : await serveProduct(kind === 'product-self-hosted' ? true : kind === 'product' ? false : fail(kind));
    process.stdout.write(`PORT ${port}\n`);
    process.once('SIGTERM', () => process.exit(0));
    // Exit with the bench: stdin is its pipe.
    process.stdin.on('end', () => process.exit(0)).resume();
    return;
  }
  const tasks = loadTasks();
  const bodies = tasks.map(completionsBody);
  const openAIBodies = await upstreamBodies(tasks);
  const prefix = `bench-${randomUUID()}:`;
  const loadBefore = loadavg();
  const procBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  const floor = await measure('floor', bodies, prefix);
  const product = await measure('product', bodies, prefix);

  // The peer comparison: one stand-in upstream for the three rows that use it.
  const standin = await startStandin();
  const upstreamUrl = `http://127.0.0.1:${standin.port}`;
  let direct: Measured;
  let selfHosted: Measured;
  const peer: PeerOutcome = { checks: [] };
  try {
    direct = await measureTarget(
      { port: standin.port, path: '/v1/chat/completions', headers: {}, bodies: openAIBodies },
      standin,
    );

    const productServer = await startServer('product-self-hosted', prefix, upstreamUrl);
    try {
      const target = { port: productServer.port, path: '/v2/completions', headers: gitlabHeaders, bodies };
      const { answer, upstream } = await throughProxy(target, bodies[0] as string, standin);
      if (answer.status !== 200 || upstream?.path !== '/v1/chat/completions') {
        throw new Error(
          `product (self-hosted) preflight: HTTP ${answer.status} ${answer.body}, upstream ${upstream?.path}`,
        );
      }
      selfHosted = await measureTarget(target, standin);
    } finally {
      await productServer.stop();
    }

    if (!existsSync(peerEntry)) {
      peer.failure = `\`${path.relative(process.cwd(), peerEntry)}\` is missing: run \`npm install --prefix bench/peer --ignore-scripts --no-audit --no-fund\`.`;
    } else {
      let peerServer: Child | undefined;
      try {
        peerServer = await startPeer();
        const target = {
          port: peerServer.port,
          path: '/v1/chat/completions',
          headers: peerHeaders(upstreamUrl),
          bodies: openAIBodies,
        };
        // Preflight: for a few tasks, the stand-in must receive from the peer exactly the body it receives from
        // the product, and the peer must return the stand-in's own answer.
        const productServer2 = await startServer('product-self-hosted', prefix, upstreamUrl);
        try {
          const productTarget = { port: productServer2.port, path: '/v2/completions', headers: gitlabHeaders, bodies };
          for (const index of [0, Math.floor(tasks.length / 2), tasks.length - 1]) {
            const viaProduct = await throughProxy(productTarget, bodies[index] as string, standin);
            const viaPeer = await throughProxy(target, openAIBodies[index] as string, standin);
            const directAgent = new HttpAgent({ keepAlive: false });
            const directAnswer = await post(
              directAgent,
              { port: standin.port, path: '/v1/chat/completions', headers: {}, bodies: [] },
              openAIBodies[index] as string,
              true,
            ).finally(() => directAgent.destroy());
            if (viaPeer.answer.status !== 200) {
              throw new Error(`HTTP ${viaPeer.answer.status} from the peer: ${viaPeer.answer.body}`);
            }
            const sameBody = isDeepStrictEqual(viaProduct.upstream?.body, viaPeer.upstream?.body);
            const samePath = viaProduct.upstream?.path === viaPeer.upstream?.path;
            const peerText = (
              JSON.parse(viaPeer.answer.body ?? '{}') as { choices?: { message?: { content?: string } }[] }
            ).choices?.[0]?.message?.content;
            const directText = (
              JSON.parse(directAnswer.body ?? '{}') as { choices?: { message?: { content?: string } }[] }
            ).choices?.[0]?.message?.content;
            peer.checks.push(
              `task ${index}: upstream ${viaPeer.upstream?.method} ${viaPeer.upstream?.path} from both: ${samePath ? 'yes' : 'NO'}; ` +
                `same upstream body from product and peer: ${sameBody ? 'yes' : `NO (product ${JSON.stringify(viaProduct.upstream?.body).slice(0, 200)}…, peer ${JSON.stringify(viaPeer.upstream?.body).slice(0, 200)}…)`}; ` +
                `peer answer = stand-in answer: ${peerText !== undefined && peerText === directText ? 'yes' : 'NO'}`,
            );
            if (index === 0) {
              const headerNames = (request: UpstreamRequest | null) =>
                Object.keys(request?.headers ?? {})
                  .sort()
                  .join(', ');
              peer.checks.push(`upstream headers from the product: ${headerNames(viaProduct.upstream)}`);
              peer.checks.push(`upstream headers from the peer: ${headerNames(viaPeer.upstream)}`);
            }
          }
        } finally {
          await productServer2.stop();
        }
        peer.measured = await measureTarget(target, standin);
      } catch (error) {
        peer.failure = `${error instanceof Error ? error.message : String(error)}${peerServer ? `\n\nPeer output (tail):\n${peerServer.output()}` : ''}`;
      } finally {
        await peerServer?.stop();
      }
    }
  } finally {
    await standin.stop();
  }
  const loadAfter = loadavg();
  const procAfter = readFileSync('/proc/loadavg', 'utf8').trim();
  await cleanupPrefix(prefix);

  const rows: [string, Measured | undefined][] = [
    ['floor (bare http + fake)', floor],
    ['product (/v2/completions)', product],
    ['stand-in direct (/v1/chat/completions)', direct],
    ['product → stand-in (/v2/completions, self-hosted provider)', selfHosted],
    ['peer: Portkey 1.15.2 → stand-in (/v1/chat/completions)', peer.measured],
  ];
  const line = (name: string, count: number, result: PhaseResult) =>
    `| ${name} | ${count} | ${result.requests} | ${result.errors} | ${Math.round(result.requests / result.seconds)} | ${format(result.p50)} | ${format(result.p99)} |`;
  const table = [
    '| server | connections | requests | errors | req/s | p50 ms | p99 ms |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...rows.flatMap(([name, result]) =>
      result
        ? [line(name, connections, result.loaded), line(name, 1, result.sequential)]
        : [`| ${name} | — | — | — | not measured (see below) | — | — |`],
    ),
  ].join('\n');
  const throughput = product.loaded.requests / product.loaded.seconds;
  const overheadP50 = product.sequential.p50 - floor.sequential.p50;
  const overheadP99 = product.sequential.p99 - floor.sequential.p99;
  const rate = (result: Measured) => result.loaded.requests / result.loaded.seconds;
  const peerRows: string[] = [];
  let peerVerdict: string;
  if (peer.measured) {
    const ours = selfHosted;
    const theirs = peer.measured;
    const faster = rate(ours) > rate(theirs);
    const lowerP50 = ours.sequential.p50 < theirs.sequential.p50;
    peerRows.push(
      `| faster than the peer: req/s at ${connections} connections, product → stand-in vs Portkey → stand-in | ${Math.round(rate(ours))} vs ${Math.round(rate(theirs))} req/s (× ${(rate(ours) / rate(theirs)).toFixed(2)}) | ${faster ? 'yes' : 'no'} |`,
      `| faster than the peer: p50 at 1 connection, product vs Portkey | ${format(ours.sequential.p50)} vs ${format(theirs.sequential.p50)} ms | ${lowerP50 ? 'yes' : 'no'} |`,
      `| p99 at 1 connection, product vs Portkey | ${format(ours.sequential.p99)} vs ${format(theirs.sequential.p99)} ms | ${ours.sequential.p99 < theirs.sequential.p99 ? 'lower' : 'higher'} |`,
      `| p50 / p99 at ${connections} connections, product vs Portkey | ${format(ours.loaded.p50)} / ${format(ours.loaded.p99)} vs ${format(theirs.loaded.p50)} / ${format(theirs.loaded.p99)} ms | ${ours.loaded.p50 < theirs.loaded.p50 ? 'lower' : 'higher'} / ${ours.loaded.p99 < theirs.loaded.p99 ? 'lower' : 'higher'} |`,
      `| proxy overhead over the stand-in, p50 / p99 at 1 connection: product vs Portkey | ${format(ours.sequential.p50 - direct.sequential.p50)} / ${format(ours.sequential.p99 - direct.sequential.p99)} vs ${format(theirs.sequential.p50 - direct.sequential.p50)} / ${format(theirs.sequential.p99 - direct.sequential.p99)} ms | — |`,
    );
    peerVerdict =
      faster && lowerP50
        ? `**Faster than the peer: yes**: more requests per second at ${connections} connections and a lower p50 at 1 connection.`
        : `**Faster than the peer: no** (${faster ? 'more' : 'fewer'} req/s at ${connections} connections, ${lowerP50 ? 'lower' : 'higher'} p50 at 1 connection).`;
  } else {
    peerRows.push(`| faster than the peer | not measured | — |`);
    peerVerdict = '**Faster than the peer: not measured** (see "Peer" below).';
  }
  const verdict = [
    `| target | measured | met |`,
    `|---|---:|:---:|`,
    `| ≥ 3,000 req/s at ${connections} connections | ${Math.round(throughput)} req/s | ${throughput >= 3000 ? 'yes' : 'no'} |`,
    `| overhead p50 ≤ 1 ms (1 connection, product − floor) | ${format(overheadP50)} ms | ${overheadP50 <= 1 ? 'yes' : 'no'} |`,
    `| overhead p99 ≤ 5 ms (1 connection, product − floor) | ${format(overheadP99)} ms | ${overheadP99 <= 5 ? 'yes' : 'no'} |`,
    `| overhead p50 at ${connections} connections (product − floor) | ${format(product.loaded.p50 - floor.loaded.p50)} ms | — |`,
    ...peerRows,
  ].join('\n');
  const errorLines = rows.flatMap(([name, result]) =>
    result
      ? [result.loaded, result.sequential].flatMap((phase) =>
          phase.firstError ? [`- ${name}: first error: \`${phase.firstError.replace(/\s+/g, ' ')}\``] : [],
        )
      : [],
  );
  const upstreamCounts = (
    [
      ['stand-in direct', direct],
      ['product → stand-in', selfHosted],
      ['Portkey → stand-in', peer.measured],
    ] as const
  ).flatMap(([name, result]) =>
    result?.upstreamRequests === undefined
      ? []
      : [
          `${name} ${result.upstreamRequests} upstream for ${result.loaded.requests + result.sequential.requests} answered`,
        ],
  );
  const report = `# bench:completions — POST /v2/completions with the fake model at zero latency

Measured ${new Date().toISOString()} on this machine (2 cores, shared with other engineers' work), Node ${process.version}.
Load average (1/5/15 min): before ${loadBefore.map((value) => value.toFixed(2)).join(' / ')}, after ${loadAfter.map((value) => value.toFixed(2)).join(' / ')}
(\`/proc/loadavg\` before: \`${procBefore}\`, after: \`${procAfter}\`).

Product: \`createRestHandler\` on node:http in its own process: token authentication (PGlite, 30 s cache), Redis rate
limit (one Lua round trip per request), zod validation, the \`rules\` moderation with secret/PII redaction, prompt
building, metrics, a JSON access log line to /dev/null, the fake provider (chat path) and post-processing.
Floor: a bare node:http server in its own process that parses the same JSON and calls the same fake provider directly.
Peer comparison (issue #7), over one upstream: the OpenAI-compatible stand-in
(\`test/helpers/standins/openai-compatible-standin.ts\`, zero latency, its own process via \`bench/standin-server.ts\`).
- stand-in direct: the client sends the upstream request itself: the floor of both proxies.
- product → stand-in: the same product process, configured as a deployment would be (\`USE_FAKE_MODELS=false\`,
  \`SELF_HOSTED_MODEL_URL=<stand-in>\`, \`SELF_HOSTED_MODEL_NAME=${selfHostedModel}\`): the registry's fallback chain
  (circuit breaker in Redis, timeout, retry) over the OpenAI-compatible provider (fetch).
- peer: \`@portkey-ai/gateway\` 1.15.2 (bench-only package \`bench/peer\`), \`build/start-server.js --port=<n> --headless\`,
  NODE_ENV=production, sent \`x-portkey-provider: openai\` and \`x-portkey-custom-host: <stand-in>/v1\`.
- Upstream request: \`POST /v1/chat/completions\` (system prompt + user turn with the file name, language and
  \`<code>prefix<cursor/>suffix</code>\`, \`max_tokens\` 64, \`temperature\` 0.2, \`stream: false\`). That is what the
  product sends upstream for these payloads: the fallback chain has no \`completeCode\`, so \`/v2/completions\`
  takes the chat path, not the FIM \`/v1/completions\`. The peer is sent that same body, built with the product's
  own prompt functions.
Client: keep-alive node:http agents in this process (so the client shares the 2 cores with the servers).
Payloads: the ${tasks.length} tasks of \`HumanEval-SingleLineInfilling.jsonl.gz\` round-robin (prefix + suffix up to ~2.8 KB).
Phases: ${warmupSeconds} s warm-up, ${phaseSeconds} s at ${connections} connections, ${sequentialSeconds} s at 1 connection.

${table}

${verdict}

${peerVerdict}

## Peer

${
  peer.failure
    ? `The peer could not be measured:\n\n\`\`\`\n${peer.failure}\n\`\`\``
    : `Preflight (the stand-in's record of one request through each proxy, then one sent to it directly):\n\n${peer.checks.map((check) => `- ${check}`).join('\n')}`
}

Requests the stand-in received during the measured phases: ${upstreamCounts.join('; ') || '—'}.
${errorLines.length > 0 ? `\nErrors:\n\n${errorLines.join('\n')}\n` : ''}
- Install: \`npm install --prefix bench/peer --ignore-scripts --no-audit --no-fund\`. The skipped \`postinstall\` is
  \`patch-package\`, which finds nothing to apply: the published package has no \`patches/\` directory (its \`files\`
  do not include it). Upstream's patches are for its own development tree: \`@hono/node-server\` 1.13.5
  (\`return await responseViaResponseObject\`), which the installed 1.19.x already contains; \`async-retry\` 1.3.3
  (pass the retry operation as a third argument), used by the gateway only when an upstream answers with a
  retry-after header under a retry config (neither happens here); and \`@types/async-retry\` (types only).
  \`prepare\` (husky) is a development hook.
- The peer listens on all interfaces (its start-server has no host flag) for the length of its phases.
`;
  writeFileSync(path.resolve(import.meta.dirname, 'results/completions.md'), report);
  process.stdout.write(report);
}

function fail(kind: string | undefined): never {
  throw new Error(`unknown server kind ${kind}`);
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
