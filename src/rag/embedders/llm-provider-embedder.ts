import type { LlmProvider } from '../../llm/types.ts';
import type { Embedder, EmbedOptions } from './embedder.ts';
import { createEmbeddingScheduler } from './embedding-scheduler.ts';

/**
 * Texts handed to the provider per call. Vertex's gecko models take 5 per request and the Vertex provider splits
 * larger calls itself; 50 is GitLab's `BATCH_SIZE`, so one scheduled call is one GitLab batch.
 */
const defaultBatchSize = 50;
/** One call in flight: the provider already issues its own sub-requests back to back. */
const defaultConcurrency = 1;
/** GitLab's `EMBEDDINGS_PER_SECOND = 7`, from Vertex's default 600 requests/minute quota. */
const defaultRequestsPerSecond = 7;

export interface LlmProviderEmbedderOptions {
  /** Name recorded per row, e.g. `vertex:text-embedding-005`. */
  model: string;
  /** Width of the provider's vectors; Vertex text-embedding models return 768. */
  dimensions: number;
  /** Texts per provider call; default 50 (GitLab's `BATCH_SIZE`). */
  batchSize?: number;
  /** Provider calls in flight; default 1. */
  concurrency?: number;
  /** Provider calls started per second; default 7 (GitLab's `EMBEDDINGS_PER_SECOND`). */
  requestsPerSecond?: number;
}

export class EmbeddingsUnsupportedError extends Error {
  override name = 'EmbeddingsUnsupportedError';
}

/** Adapts any {@link LlmProvider} with `embed` (the Vertex provider) to an {@link Embedder} with rate limits. */
export function createLlmProviderEmbedder(provider: LlmProvider, options: LlmProviderEmbedderOptions): Embedder {
  const embed = provider.embed?.bind(provider);
  if (!embed) throw new EmbeddingsUnsupportedError(`The provider ${provider.id} has no embedding model`);
  const scheduler = createEmbeddingScheduler({
    batchSize: options.batchSize ?? defaultBatchSize,
    concurrency: options.concurrency ?? defaultConcurrency,
    requestsPerSecond: options.requestsPerSecond ?? defaultRequestsPerSecond,
  });
  return {
    model: options.model,
    dimensions: options.dimensions,
    embed(texts: string[], callOptions: EmbedOptions = {}) {
      return scheduler.run(texts, (batch, signal) => embed(batch, signal ? { signal } : {}), callOptions.signal);
    },
  };
}
