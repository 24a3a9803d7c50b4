import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { getCurrentDocumentationVersion } from './documentation-versions.ts';
import { readDocumentationFolder } from './read-documentation-pages.ts';
import { seedDocumentation } from './seed-documentation.ts';

/** This product's own documentation, seeded on a first start so chat can answer questions about it offline. */
export const ownDocumentationFolder = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs');

/**
 * Seeds `docs/` with the offline embedder when no documentation is seeded yet. Runs in the background on
 * `npm start`: the service answers meanwhile, and chat uses the documentation once it is current.
 */
export async function seedOwnDocumentationIfEmpty(db: Database, logger: Logger): Promise<void> {
  if (await getCurrentDocumentationVersion(db)) return;
  const pages = await readDocumentationFolder(ownDocumentationFolder, {
    // Relative: these pages live in the repository, not on a documentation site.
    baseUrl: 'docs',
  });
  if (pages.length === 0) return;
  const { createOfflineEmbedder } = await import('./embedders/offline-embedder.ts');
  const result = await seedDocumentation(db, {
    pages,
    embedder: createOfflineEmbedder(),
    origin: ownDocumentationFolder,
  });
  logger.info(
    { pages: result.pagesDone, chunks: result.chunksDone, version: result.version },
    'Seeded this product’s own documentation (docs/) for chat; seed GitLab’s with `npm run docs:seed -- <folder>`',
  );
}
