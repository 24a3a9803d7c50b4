import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { type DocumentationAnswerPlan, planDocumentationAnswer } from './documentation-answer.ts';
import { getCurrentDocumentationVersion } from './documentation-versions.ts';
import type { Embedder } from './embedders/embedder.ts';
import { searchDocumentation } from './search-documentation.ts';

/** How long "no documentation is seeded" is remembered before asking the database again. */
const versionCheckIntervalMs = 30_000;

export interface DocumentationRetriever {
  /**
   * GitLab's documentation answer for a question: a prompt quoting the relevant chunks, or undefined when
   * no documentation is seeded, it was embedded with another model, or nothing relevant was found.
   */
  retrieve(
    question: string,
    signal?: AbortSignal,
  ): Promise<Extract<DocumentationAnswerPlan, { kind: 'prompt' }> | undefined>;
}

/**
 * Hybrid documentation search for chat. The embedder is created on first need, so a worker without seeded
 * documentation never loads a model.
 */
export function createDocumentationRetriever(options: {
  db: Database;
  /** Loads the embedder the documentation was seeded with (a dynamic import keeps the model out of processes that never search). */
  loadEmbedder: () => Promise<Embedder>;
  logger: Logger;
  /** Chunks less similar than this are not quoted (the default suits the offline embedder). */
  minSimilarity?: number;
}): DocumentationRetriever {
  let embedder: Promise<Embedder> | undefined;
  let checkedAt = 0;
  let current: { version: number; embeddingModel: string } | undefined;

  return {
    async retrieve(question, signal) {
      if (Date.now() - checkedAt > versionCheckIntervalMs) {
        current = await getCurrentDocumentationVersion(options.db);
        checkedAt = Date.now();
      }
      if (!current) return undefined;
      embedder ??= options.loadEmbedder();
      const loaded = await embedder;
      if (loaded.model !== current.embeddingModel) {
        options.logger.warn(
          { seeded: current.embeddingModel, embedder: loaded.model },
          'documentation was embedded with another model; documentation search is off until it is re-seeded',
        );
        return undefined;
      }
      const results = await searchDocumentation(options.db, {
        question,
        embedder: loaded,
        ...(signal ? { signal } : {}),
      });
      const plan = planDocumentationAnswer({
        question,
        results,
        ...(options.minSimilarity === undefined ? {} : { minSimilarity: options.minSimilarity }),
      });
      return plan.kind === 'prompt' ? plan : undefined;
    },
  };
}
