import { count } from 'drizzle-orm';
import { seedDevWorld, writeManifest } from '../seeds/dev-world.ts';
import { aiActionCatalogue } from './actions/catalogue.ts';
import { loadUnitPrimitiveBundles } from './actions/cloud-connector.ts';
import type { AiActionDefinition } from './actions/define-ai-action.ts';
import { CatalogueError, validateCatalogue } from './actions/validate-catalogue.ts';
import { createCachedAccessDirectory } from './auth/access-directory.ts';
import { createTokenAuthenticator } from './auth/token-authenticator.ts';
import { createUserLookup } from './auth/user-lookup.ts';
import { createChatHistory } from './chat/chat-history.ts';
import { scheduleChatThreadExpiry } from './chat/chat-threads.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createDatabase, type DatabaseHandle, DatabaseLockedError } from './db/client.ts';
import { runMigrations } from './db/migrate.ts';
import { users } from './db/schema/users.ts';
import { createFeatureFlags } from './feature-flags/create-feature-flags.ts';
import { createProviderRegistry, type ProviderRegistry } from './llm/registry.ts';
import { registerCircuitBreakerMetrics } from './llm/resilience/circuit-breaker-metrics.ts';
import { createLogger, type Logger } from './logger.ts';
import { createMetrics } from './metrics/create-metrics.ts';
import { createMetricsServer } from './metrics/create-metrics-server.ts';
import { knownModels } from './prompts/known-models.ts';
import { loadPromptLibrary, PromptDefinitionError } from './prompts/prompt-library.ts';
import { createAiPubSub } from './pubsub.ts';
import { createDocumentationRetriever, type DocumentationRetriever } from './rag/documentation-retriever.ts';
import { seedOwnDocumentationIfEmpty } from './rag/seed-own-documentation.ts';
import { createAiActionRateLimiter } from './rate-limit/ai-action-rate-limiter.ts';
import { createRedis, ensureRedis, RedisUnavailableError, waitUntilReady } from './redis.ts';
import { listenForCancels } from './requests/cancel-requests.ts';
import { createRequestLog } from './requests/request-log.ts';
import { loadRestConfig, type RestConfig } from './rest/rest-config.ts';
import { createModeratorFromRestConfig } from './rest/rest-moderation.ts';
import { createApiServer } from './server.ts';
import { createEventTracker } from './tracking/event-tracker.ts';
import { createAiActionWorker } from './workers/ai-action-worker.ts';
import { aiActionQueueName, createAiActionQueue } from './workers/queues.ts';

export type ProcessRole = 'all' | 'api' | 'worker';

/** Seeds an empty development database, so `npm start` on a fresh clone has users and tokens. */
async function seedIfEmpty(config: Config, database: DatabaseHandle, logger: Logger): Promise<void> {
  if (!config.SEED_ON_START || config.NODE_ENV === 'production') return;
  const [row] = await database.db.select({ users: count() }).from(users);
  if ((row?.users ?? 0) > 0) return;
  const manifest = await seedDevWorld(database.db);
  const file = writeManifest(config.DATA_DIR, manifest);
  logger.info({ manifest: file }, `Seeded the development world; tokens and ids are in ${file}`);
}

/** Starts the API, the workers, or both, and stops them gracefully on SIGTERM/SIGINT. */
export async function startProcess(role: ProcessRole): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
    loadRestConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
  const logger = createLogger({ level: config.LOG_LEVEL, name: role === 'all' ? 'duo' : role });
  try {
    await run(role, config, logger);
  } catch (error) {
    if (
      error instanceof DatabaseLockedError ||
      error instanceof RedisUnavailableError ||
      error instanceof PromptDefinitionError ||
      error instanceof CatalogueError
    ) {
      logger.fatal(error.message);
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

export interface Runtime {
  /** The API's port, when this runtime serves the API. */
  apiPort?: number;
  /** Stops taking work, lets running jobs finish (or hands them back), closes every connection. */
  close(): Promise<void>;
}

/**
 * Wires the API and/or the workers from the configuration. Tests call it in-process with their own
 * database; the entry points call it through `startProcess`.
 */
export async function startRuntime(
  role: ProcessRole,
  config: Config,
  logger: Logger,
  overrides: {
    database?: DatabaseHandle;
    providers?: ProviderRegistry;
    restConfig?: RestConfig;
    documentation?: DocumentationRetriever;
  } = {},
): Promise<Runtime> {
  const bundles = loadUnitPrimitiveBundles();
  // A broken catalogue or prompt definition stops start-up here, with a message naming the file or action.
  validateCatalogue(aiActionCatalogue as unknown as AiActionDefinition[], bundles);
  const prompts = loadPromptLibrary({
    features: new Map(aiActionCatalogue.map((action) => [action.actionName, action.promptVariables])),
    knownModels: knownModels(config),
    ...(config.PROMPT_DEFINITIONS_DIR ? { directory: config.PROMPT_DEFINITIONS_DIR } : {}),
  });
  if (!config.DATABASE_URL && !overrides.database && role !== 'all') {
    logger.warn(
      'DATABASE_URL is unset: this process opens the embedded database by itself. To run the API and workers as separate processes, serve it with `npm run db:serve` and set DATABASE_URL.',
    );
  }
  const redis = await ensureRedis({
    url: config.redisUrl,
    autostart: config.REDIS_AUTOSTART && role === 'all',
    logger,
  });
  const database =
    overrides.database ??
    (await createDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolSize: config.DATABASE_POOL_SIZE,
    }));
  if (!overrides.database) {
    await runMigrations(database);
    if (database.kind === 'embedded') {
      await seedIfEmpty(config, database, logger);
      if (config.SEED_ON_START && config.DOCS_SEARCH_ENABLED && config.NODE_ENV !== 'production') {
        // In the background: the model load and embedding take seconds, the service answers meanwhile.
        void seedOwnDocumentationIfEmpty(database.db, logger).catch((error: unknown) =>
          logger.warn({ err: error }, 'could not seed the documentation in docs/'),
        );
      }
    }
  }

  const prefix = config.REDIS_KEY_PREFIX;
  const commandRedis = createRedis(redis.url, 'command', `${role}:commands`);
  commandRedis.on('error', (error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
  const pubsub = createAiPubSub({ redisUrl: redis.url, prefix, name: role });
  const chatHistory = createChatHistory(commandRedis, prefix);
  const requestLog = createRequestLog(commandRedis, prefix);
  // Command connections fail fast instead of queueing; they must be connected before traffic arrives.
  await Promise.all([waitUntilReady(commandRedis), pubsub.ready()]);
  const closers: (() => Promise<unknown>)[] = [];
  const directory = createCachedAccessDirectory(database.db, {
    ttlMs: config.AUTH_CACHE_TTL_MS,
    redisUrl: redis.url,
    prefix,
  });
  closers.push(async () => directory.close?.());
  const featureFlags = createFeatureFlags({ db: database.db, redisUrl: redis.url, prefix, logger });
  closers.push(() => featureFlags.close());
  const tracker = createEventTracker({ db: database.db, logger });
  let apiPort: number | undefined;

  if (config.useFakeModels && !overrides.providers) {
    logger.warn('No AI provider is configured: every feature is served by the fake model (USE_FAKE_MODELS).');
  }
  const providers = overrides.providers ?? createProviderRegistry(config, { redis: commandRedis, logger });
  closers.push(async () => providers.close?.());
  const metrics = createMetrics({ defaultLabels: { process: role } });
  if (providers.breakers) registerCircuitBreakerMetrics(providers.breakers, metrics.registry);
  // One metrics port per process: the worker of a split deployment takes METRICS_PORT + 1.
  const metricsPort = config.METRICS_PORT === 0 ? 0 : role === 'worker' ? config.METRICS_PORT + 1 : config.METRICS_PORT;
  const metricsServer = await createMetricsServer(metrics, metricsPort, config.HOST);
  closers.push(() => metricsServer.close());
  logger.info({ port: metricsServer.port }, `metrics on http://${config.HOST}:${metricsServer.port}/metrics`);

  const restConfig = overrides.restConfig ?? loadRestConfig();
  if (role === 'all' || role === 'worker') {
    const users = createUserLookup(database.db, { ttlMs: config.AUTH_CACHE_TTL_MS });
    const documentation =
      overrides.documentation ??
      (config.DOCS_SEARCH_ENABLED
        ? createDocumentationRetriever({
            db: database.db,
            loadEmbedder: async () => (await import('./rag/embedders/offline-embedder.ts')).createOfflineEmbedder(),
            logger,
          })
        : undefined);
    // Follow-up jobs (question categorization) go back on the same queue.
    const followUpQueue = createAiActionQueue(redis.url, prefix);
    closers.push(() => followUpQueue.close());
    const worker = createAiActionWorker(
      {
        followUps: {
          async enqueue(data, jobId) {
            // Behind every user-facing job: a burst of chats must not wait for its own categorizations.
            await followUpQueue.add(data.actionName, data, { jobId, priority: 10 });
          },
        },
        ...(restConfig.GITLAB_URL ? { linkBaseUrl: restConfig.GITLAB_URL } : {}),
        db: database.db,
        users,
        directory,
        featureFlags,
        prompts,
        pubsub,
        chatHistory,
        requestLog,
        providers,
        metrics,
        logger,
        tracker,
        ...(documentation ? { documentation } : {}),
      },
      {
        redisUrl: redis.url,
        keyPrefix: prefix,
        concurrency: config.WORKER_CONCURRENCY,
        lockDurationMs: config.WORKER_LOCK_DURATION_MS,
      },
    );
    await worker.waitUntilReady();
    // aiCancel on any API process reaches the worker process that runs the job.
    const stopListening = await listenForCancels(
      createRedis(redis.url, 'blocking', `${role}:cancel-listener`),
      prefix,
      (requestId) => {
        if (worker.cancelJob(requestId, 'cancelled by its owner'))
          logger.info({ requestId }, 'cancelling a running job');
      },
    );
    closers.push(stopListening);
    logger.info({ concurrency: config.WORKER_CONCURRENCY }, 'worker ready on queue llm_completion');
    // Background housekeeping belongs to workers (GitLab runs it as a cron job): threads idle for 30 days go.
    const threadExpiry = scheduleChatThreadExpiry(database.db, logger);
    closers.push(async () => threadExpiry.stop());
    closers.unshift(async () => {
      // Running jobs get SHUTDOWN_TIMEOUT_MS to finish; after that the worker lets go of them and
      // their locks expire, so another worker picks them up as stalled jobs.
      const finished = await Promise.race([
        worker.close().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), config.SHUTDOWN_TIMEOUT_MS).unref()),
      ]);
      if (!finished) await worker.close(true);
    });
  }
  if (role === 'all' || role === 'api') {
    const queue = createAiActionQueue(redis.url, prefix);
    await queue.waitUntilReady();
    const authenticator = createTokenAuthenticator(database.db, { ttlMs: config.AUTH_CACHE_TTL_MS });
    // Queue depth for the metrics, sampled every 5 s: often enough for alerting, one cheap call per replica.
    const depthTimer = setInterval(() => {
      queue
        .getWaitingCount()
        .then((waiting) => metrics.setQueueDepth(aiActionQueueName, waiting))
        .catch(() => undefined);
    }, 5_000);
    depthTimer.unref();
    closers.unshift(async () => clearInterval(depthTimer));
    const rateLimiter = createAiActionRateLimiter({
      redis: commandRedis,
      prefix,
      points: config.AI_ACTION_RATE_LIMIT,
      durationSeconds: config.AI_ACTION_RATE_LIMIT_PERIOD_S,
    });
    const api = createApiServer({
      config,
      logger,
      database,
      redis: commandRedis,
      pubsub,
      queue,
      chatHistory,
      requestLog,
      authenticator,
      directory,
      featureFlags,
      bundles,
      rateLimiter,
      providers,
      metrics,
      restConfig,
      tracker,
      moderator: createModeratorFromRestConfig(restConfig),
    });
    apiPort = await api.listen(config.PORT, config.HOST);
    logger.info({ port: apiPort }, `API listening on http://${config.HOST}:${apiPort}/api/graphql`);
    // The API stops first so no new work arrives while workers finish theirs.
    closers.unshift(
      () => api.close(),
      () => queue.close(),
    );
  }

  // Last: events tracked while the API and workers stopped are still written.
  closers.push(() => tracker.close());
  return {
    ...(apiPort === undefined ? {} : { apiPort }),
    async close() {
      for (const close of closers) await close().catch((error) => logger.error({ err: error }, 'close failed'));
      await pubsub.close().catch(() => undefined);
      commandRedis.disconnect();
      if (!overrides.database) await database.close();
      redis.stop();
    },
  };
}

async function run(role: ProcessRole, config: Config, logger: Logger): Promise<void> {
  const runtime = await startRuntime(role, config, logger);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS + 5_000);
    timer.unref();
    await runtime.close();
    logger.info('stopped');
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
