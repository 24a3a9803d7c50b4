import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createTokenAuthenticator } from '../../src/auth/token-authenticator.ts';
import { loadConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import type { FeatureFlags, FlagActor } from '../../src/feature-flags/feature-flags.ts';
import { createFakeProvider, type FakeProvider } from '../../src/llm/providers/fake/fake-provider.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import { createMetrics, type Metrics } from '../../src/metrics/create-metrics.ts';
import type { InputModerator } from '../../src/moderation/input-moderator.ts';
import { createRestHandler } from '../../src/rest/create-rest-handler.ts';
import { loadRestConfig } from '../../src/rest/rest-config.ts';
import { testRedisUrl } from '../helpers/redis-namespace.ts';

/** The tiny in-memory FeatureFlags the tests use: global flags, and per-user flags by user id. */
export function createInMemoryFeatureFlags(initial: { global?: string[]; users?: Record<string, number[]> } = {}) {
  const global = new Set(initial.global ?? []);
  const users = new Map(Object.entries(initial.users ?? {}).map(([name, ids]) => [name, new Set(ids)]));
  const flags: FeatureFlags & {
    enable(name: string, userId?: number): void;
    disable(name: string): void;
  } = {
    async isEnabled(name: string, actor?: FlagActor) {
      if (global.has(name)) return true;
      return actor?.userId !== undefined && (users.get(name)?.has(actor.userId) ?? false);
    },
    enable(name, userId) {
      if (userId === undefined) global.add(name);
      else users.set(name, new Set([...(users.get(name) ?? []), userId]));
    },
    disable(name) {
      global.delete(name);
      users.delete(name);
    },
  };
  return flags;
}

export type InMemoryFeatureFlags = ReturnType<typeof createInMemoryFeatureFlags>;

/** A registry in which one fake serves every feature. */
export function fakeRegistry(fake: FakeProvider): ProviderRegistry {
  return { forFeature: () => fake, list: () => [fake] };
}

export interface RestHarness {
  baseUrl: string;
  metrics: Metrics;
  flags: InMemoryFeatureFlags;
  /** Every log line written so far, as raw JSON text. */
  logLines(): string[];
  close(): Promise<void>;
}

export interface RestHarnessOptions {
  database: DatabaseHandle;
  prefix: string;
  providers?: ProviderRegistry;
  flags?: InMemoryFeatureFlags;
  /** Extra variables for both loadConfig and loadRestConfig. */
  environment?: Record<string, string>;
  moderator?: InputModerator;
  metrics?: Metrics;
}

/** A real node:http server on 127.0.0.1:0 serving only the REST handler (404 for everything else). */
export async function startRestHarness(options: RestHarnessOptions): Promise<RestHarness> {
  const environment = {
    NODE_ENV: 'test',
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: options.prefix,
    REDIS_AUTOSTART: 'false',
    USE_FAKE_MODELS: 'true',
    FAKE_MODEL_LATENCY_MS: '0',
    LOG_LEVEL: 'info',
    ...options.environment,
  };
  const config = loadConfig(environment);
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const redis = new Redis(testRedisUrl, { maxRetriesPerRequest: 1 });
  const metrics = options.metrics ?? createMetrics({ defaultMetrics: false });
  const flags = options.flags ?? createInMemoryFeatureFlags();
  const handler = createRestHandler({
    config,
    logger,
    authenticator: createTokenAuthenticator(options.database.db, { ttlMs: 30_000 }),
    providers: options.providers ?? fakeRegistry(createFakeProvider()),
    featureFlags: flags,
    redis,
    metrics,
    restConfig: loadRestConfig(environment),
    ...(options.moderator ? { moderator: options.moderator } : {}),
  });
  const server: Server = createServer((request, response) => {
    void handler(request, response).then((handled) => {
      if (!handled) response.writeHead(404, { 'content-type': 'text/plain' }).end('not a REST route');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    metrics,
    flags,
    logLines: () => [...lines],
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}

/** The seed's example request body. */
export function seedExampleBody() {
  return {
    prompt_version: 1,
    project_path: 'gitlab-org/gitlab-shell',
    project_id: 33191677,
    current_file: { file_name: 'test.py', content_above_cursor: 'def is_even(n: int) ->', content_below_cursor: '' },
    telemetry: [
      {
        model_engine: 'vertex-ai',
        model_name: 'code-gecko',
        lang: 'python',
        experiments: [{ name: 'exp_truncate_suffix', variant: 0 }],
        requests: 1,
        accepts: 1,
        errors: 0,
      },
    ],
  };
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: unknown; headers: Headers; text: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, body: parsed, headers: response.headers, text };
}
