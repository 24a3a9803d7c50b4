import { eq } from 'drizzle-orm';
import { aiActionCatalogue } from '../actions/catalogue.ts';
import { loadUnitPrimitiveBundles, type UnitPrimitiveBundles } from '../actions/cloud-connector.ts';
import { createCachedAccessDirectory } from '../auth/access-directory.ts';
import { createUserLookup } from '../auth/user-lookup.ts';
import type { Config } from '../config.ts';
import { createDatabase, type DatabaseHandle } from '../db/client.ts';
import { runMigrations } from '../db/migrate.ts';
import { users } from '../db/schema/users.ts';
import { createProviderRegistry, type ProviderRegistry } from '../llm/registry.ts';
import type { Logger } from '../logger.ts';
import { knownModels } from '../prompts/known-models.ts';
import { loadPromptLibrary } from '../prompts/prompt-library.ts';
import { createDocumentationRetriever } from '../rag/documentation-retriever.ts';
import { loadFlagSnapshot } from './flag-snapshot.ts';
import type { SharedChatServices } from './run-chat-case.ts';

export interface ChatServices {
  services: SharedChatServices;
  bundles: UnitPrimitiveBundles;
  /** The database id of a user, by username; undefined when there is none. */
  userIdOf(username: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/**
 * The worker's services, wired from the configuration the way `startRuntime` wires them: the service's database,
 * prompt definitions, feature flags (a snapshot: no Redis needed), the provider registry (so answers come from whatever the configuration says,
 * the fake model by default offline) and documentation search. Nothing is published or queued: the runner
 * records each case's messages itself.
 */
export async function openChatServices(
  config: Config,
  logger: Logger,
  overrides: { database?: DatabaseHandle; providers?: ProviderRegistry } = {},
): Promise<ChatServices> {
  const database =
    overrides.database ??
    (await createDatabase({
      databaseUrl: config.DATABASE_URL,
      dataDir: config.DATA_DIR,
      poolSize: config.DATABASE_POOL_SIZE,
    }));
  if (!overrides.database) await runMigrations(database);
  const db = database.db;
  const prompts = loadPromptLibrary({
    features: new Map(aiActionCatalogue.map((action) => [action.actionName, action.promptVariables])),
    knownModels: knownModels(config),
    ...(config.PROMPT_DEFINITIONS_DIR ? { directory: config.PROMPT_DEFINITIONS_DIR } : {}),
  });
  const featureFlags = await loadFlagSnapshot(db);
  const providers = overrides.providers ?? createProviderRegistry(config, { logger });
  const documentation = config.DOCS_SEARCH_ENABLED
    ? createDocumentationRetriever({
        db,
        loadEmbedder: async () => (await import('../rag/embedders/offline-embedder.ts')).createOfflineEmbedder(),
        logger,
      })
    : undefined;
  return {
    services: {
      db,
      users: createUserLookup(db, { ttlMs: config.AUTH_CACHE_TTL_MS }),
      directory: createCachedAccessDirectory(db, { ttlMs: config.AUTH_CACHE_TTL_MS }),
      featureFlags,
      prompts,
      providers,
      logger,
      ...(documentation ? { documentation } : {}),
    },
    bundles: loadUnitPrimitiveBundles(),
    async userIdOf(username) {
      const [row] = await db.select({ id: users.id }).from(users).where(eq(users.username, username)).limit(1);
      return row?.id;
    },
    async close() {
      if (!overrides.providers) await providers.close?.();
      if (!overrides.database) await database.close();
    },
  };
}
