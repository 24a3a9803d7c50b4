// Shared by the `docs:*` scripts: argument parsing, database opening and the embedder choice.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.ts';
import { createDatabase, type DatabaseHandle } from '../src/db/client.ts';
import { runMigrations } from '../src/db/migrate.ts';
import type { Embedder } from '../src/rag/embedders/embedder.ts';
import { createOfflineEmbedder } from '../src/rag/embedders/offline-embedder.ts';
import { createOpenAiCompatibleEmbedder } from '../src/rag/embedders/openai-compatible-embedder.ts';

export const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** The shared corpus lives beside the repository and is read in place, never copied in. */
export const defaultDocumentationFolder = path.resolve(repositoryRoot, '../shared/data/gitlab-docs');

/** Options every docs script understands, for choosing the embedder. */
export const embedderArgumentOptions = {
  embedder: { type: 'string', default: 'offline' },
  'base-url': { type: 'string' },
  model: { type: 'string' },
  dimensions: { type: 'string' },
  'api-key': { type: 'string' },
} as const;

export interface EmbedderArguments {
  embedder?: string | undefined;
  'base-url'?: string | undefined;
  model?: string | undefined;
  dimensions?: string | undefined;
  'api-key'?: string | undefined;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

/** `--embedder offline` (default) or `--embedder openai-compatible --base-url … --model … --dimensions …`. */
export function createEmbedderFromArguments(values: EmbedderArguments): Embedder {
  if (values.embedder === undefined || values.embedder === 'offline') return createOfflineEmbedder();
  if (values.embedder === 'openai-compatible') {
    const dimensions = Number(values.dimensions);
    if (!values['base-url'] || !values.model || !Number.isInteger(dimensions) || dimensions <= 0) {
      throw new UsageError('--embedder openai-compatible needs --base-url, --model and --dimensions');
    }
    return createOpenAiCompatibleEmbedder({
      baseUrl: values['base-url'],
      model: values.model,
      dimensions,
      ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
    });
  }
  throw new UsageError(`Unknown --embedder ${values.embedder}; use offline or openai-compatible`);
}

/** Opens the database the service uses (DATABASE_URL, else PGlite under DATA_DIR) and applies migrations. */
export async function openMigratedDatabase(): Promise<DatabaseHandle> {
  const config = loadConfig();
  const database = await createDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
  });
  await runMigrations(database);
  return database;
}

export { parseArgs };

/** Writes one progress line to stderr, so stdout stays clean for data. */
export function progress(message: string): void {
  process.stderr.write(`${message}\n`);
}

/** Runs a script's main function, printing usage errors without a stack and setting the exit code. */
export function runScript(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    if (error instanceof UsageError) progress(error.message);
    else progress(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  });
}
