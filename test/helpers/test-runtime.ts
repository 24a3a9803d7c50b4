import { type ProcessRole, type Runtime, startRuntime } from '../../src/bootstrap.ts';
import { loadConfig } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/client.ts';
import type { ProviderRegistry } from '../../src/llm/registry.ts';
import { createLogger } from '../../src/logger.ts';
import type { DocumentationRetriever } from '../../src/rag/documentation-retriever.ts';
import { loadRestConfig } from '../../src/rest/rest-config.ts';
import { testRedisUrl } from './redis-namespace.ts';

export interface TestRuntime extends Runtime {
  baseUrl: string;
}

/** The API and/or workers in this process, on a port of their own, against the given database. */
export async function startTestRuntime(options: {
  role: ProcessRole;
  database: DatabaseHandle;
  prefix: string;
  providers?: ProviderRegistry;
  documentation?: DocumentationRetriever;
  environment?: Record<string, string>;
}): Promise<TestRuntime> {
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    METRICS_PORT: '0',
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: options.prefix,
    REDIS_AUTOSTART: 'false',
    FAKE_MODEL_LATENCY_MS: '0',
    LOG_LEVEL: 'silent',
    ...options.environment,
  });
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'test' });
  const runtime = await startRuntime(options.role, config, logger, {
    restConfig: loadRestConfig(options.environment ?? {}),
    database: options.database,
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.documentation ? { documentation: options.documentation } : {}),
  });
  return { ...runtime, baseUrl: `http://127.0.0.1:${runtime.apiPort ?? 0}` };
}
