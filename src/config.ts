import { z } from 'zod';

/** Environment variables are strings; "true"/"1"/"yes" and "false"/"0"/"no" are the accepted booleans. */
const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const port = z.coerce.number().int().min(0).max(65_535);

/** Every variable this reads; exported so the deployment files are checked against it (test/unit/deployment-files.test.ts). */
export const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: port.default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  METRICS_PORT: port.default(8082),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  /** Prefix for every Redis key and channel this process uses, so test runs never collide. */
  REDIS_KEY_PREFIX: z.string().default(''),
  /** When nothing answers at REDIS_URL, `npm start` may start a private redis-server (no persistence). */
  REDIS_AUTOSTART: booleanFromEnv.default(true),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// URL' }).optional(),
  /** Directory of the embedded PGlite database, used when DATABASE_URL is unset. */
  DATA_DIR: z.string().min(1).default('.data'),
  DB_SERVE_PORT: port.default(5433),
  /** Pool size for node-postgres; PGlite served over the wire multiplexes these onto one backend. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  USE_FAKE_MODELS: booleanFromEnv.optional(),
  /** Milliseconds between two chunks of the fake model: 0 streams as fast as the path allows. */
  FAKE_MODEL_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(15),
  /** Characters per chunk of the fake model. */
  FAKE_MODEL_CHUNK_SIZE: z.coerce.number().int().min(1).max(10_000).default(12),
  AI_PROVIDER: z.enum(['anthropic', 'vertex', 'self_hosted', 'fake']).optional(),
  ANTHROPIC_API_KEY: z.string().min(1).optional(),
  ANTHROPIC_MODEL: z.string().min(1).default('claude-sonnet-4-5'),
  ANTHROPIC_BASE_URL: z.url().optional(),
  VERTEX_AI_PROJECT: z.string().min(1).optional(),
  VERTEX_AI_LOCATION: z.string().min(1).default('us-central1'),
  VERTEX_AI_API_ENDPOINT: z.string().min(1).optional(),
  VERTEX_AI_MODEL: z.string().min(1).default('gemini-2.5-flash'),
  VERTEX_AI_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-005'),
  /** Service-account JSON; Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, metadata) when unset. */
  VERTEX_AI_CREDENTIALS: z
    .string()
    .min(1)
    .transform((text, context) => {
      try {
        return JSON.parse(text) as Record<string, unknown>;
      } catch {
        context.addIssue({ code: 'custom', message: 'must be service-account JSON' });
        return z.NEVER;
      }
    })
    .optional(),
  SELF_HOSTED_MODEL_URL: z.url().optional(),
  SELF_HOSTED_MODEL_NAME: z.string().min(1).optional(),
  SELF_HOSTED_MODEL_API_KEY: z.string().min(1).optional(),
  /**
   * Reach the self-hosted model through the GPU model worker (`npm run start:model-worker` beside the
   * model server) over Redis, instead of calling SELF_HOSTED_MODEL_URL directly: GPU hosts then need
   * no inbound traffic, and their slots bound the concurrency.
   */
  SELF_HOSTED_VIA_MODEL_WORKER: booleanFromEnv.default(false),
  /** Silence allowed from a provider (per call, or between two streamed parts) before it counts as a timeout. */
  LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  /** First retry delay; GitLab's 1 s. Each next wait doubles with jitter. */
  LLM_RETRY_INITIAL_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1_000),
  /**
   * Jobs one worker process runs at once. AI jobs spend their time waiting on a provider, so this
   * is far above the core count; 50 keeps memory flat while a 2-core box saturates on JSON work.
   */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(50),
  /**
   * BullMQ job lock: renewed every half of it while a job runs, so a 2-minute stream keeps its lock; when a
   * worker dies, its jobs are re-run by another worker after at most this long. 30 s is BullMQ's default.
   */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1_000).max(600_000).default(30_000),
  /**
   * How long an authenticated token (and a job's user) is trusted without asking the database.
   * 30 s keeps the hot path free of queries; a revoked token stops working within that time.
   */
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  /**
   * How long after it was accepted a request may still be answered. A job picked up later is not sent to a
   * provider, and one still running then is stopped; either ends with status `expired`. Ten minutes covers
   * a long agent turn (ten model calls) with room to spare.
   */
  AI_REQUEST_DEADLINE_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(600_000),
  /** GitLab's `ai_action_api_rate_limit`: aiAction requests per user per AI_ACTION_RATE_LIMIT_PERIOD_S; 0 disables. */
  AI_ACTION_RATE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(160),
  /** Eight hours, GitLab's window. */
  AI_ACTION_RATE_LIMIT_PERIOD_S: z.coerce.number().int().min(1).max(604_800).default(28_800),
  /**
   * Deepest selection a GraphQL operation may have (introspection's `__schema` is not counted). The schema's
   * deepest legitimate path is 4 (`aiMessages.nodes.extras.sources`), so 12 leaves room for fragments and
   * `__type` look-ups while refusing the nested `ofType` towers that amplify work.
   */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(12),
  /**
   * Largest cost of one operation (graphql-armor's measure: 1 per scalar, 2 per object, children weighted 1.5 per
   * level). The heaviest legitimate operation, every field of `aiMessages`, costs under 100; 5,000 refuses a
   * field repeated thousands of times, which needs no alias to cost real work.
   */
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).max(1_000_000).default(5_000),
  /** Aliases one operation may use (`__typename` excepted); our clients use none, 15 is graphql-armor's default. */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(1_000).default(15),
  /** Schema introspection (and so GraphiQL's docs); unset: on, except with NODE_ENV=production. */
  GRAPHQL_INTROSPECTION: booleanFromEnv.optional(),
  /**
   * Largest GraphQL request body (HTTP) or WebSocket message; beyond it HTTP answers 413. A chat message may hold
   * 400,000 characters (GitLab's cap), up to 6 bytes each once JSON-escaped: 4 MiB fits it with room, as for REST.
   */
  GRAPHQL_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .max(64 * 1_024 * 1_024)
    .default(4 * 1_024 * 1_024),
  /** Prompt definitions (`<feature>/base.yml`, `<feature>/<model>.yml`, `<feature>/migrated.yml`); the repository's by default. */
  PROMPT_DEFINITIONS_DIR: z.string().min(1).optional(),
  /**
   * Chat answers product questions from the seeded documentation (`npm run docs:seed`) with the offline
   * embedder; off, chat never searches documentation.
   */
  DOCS_SEARCH_ENABLED: booleanFromEnv.default(true),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seed the deterministic development world into an empty embedded database on `npm start`. */
  SEED_ON_START: booleanFromEnv.default(true),
  /** Grace period for running jobs on SIGTERM before they are handed back to the queue. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
});

export type Config = z.infer<typeof environmentSchema> & {
  redisUrl: string;
  useFakeModels: boolean;
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Validates the variables a schema names. Empty strings count as unset, so `PORT= npm start` behaves like
 * no PORT at all. A bad value throws a ConfigError whose message is one line naming the variable.
 */
export function parseEnvironment<Shape extends z.ZodRawShape>(
  schema: z.ZodObject<Shape>,
  environment: NodeJS.ProcessEnv,
): z.infer<z.ZodObject<Shape>> {
  const present = Object.fromEntries(
    Object.entries(environment).filter(([key, value]) => key in schema.shape && value !== ''),
  );
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    const value = present[variable];
    throw new ConfigError(
      `Invalid environment variable ${variable}${value === undefined ? '' : `=${JSON.stringify(value)}`}: ${issue?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

/** Reads and validates the environment once, in an entry point (see {@link parseEnvironment}). */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const values = parseEnvironment(environmentSchema, environment);
  const anyProviderConfigured = Boolean(
    values.ANTHROPIC_API_KEY ||
      values.VERTEX_AI_PROJECT ||
      values.SELF_HOSTED_MODEL_URL ||
      (values.SELF_HOSTED_VIA_MODEL_WORKER && values.SELF_HOSTED_MODEL_NAME),
  );
  return {
    ...values,
    redisUrl: values.REDIS_URL ?? 'redis://127.0.0.1:6379',
    useFakeModels: values.USE_FAKE_MODELS ?? (values.AI_PROVIDER === 'fake' || !anyProviderConfigured),
  };
}
