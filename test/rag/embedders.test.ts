import { describe, expect, it } from 'vitest';
import { LlmError } from '../../src/llm/errors.ts';
import type { LlmProvider } from '../../src/llm/types.ts';
import {
  cosineSimilarity,
  EmbeddingDimensionsError,
  storedEmbeddingDimensions,
  toStoredEmbedding,
} from '../../src/rag/embedders/embedding-dimensions.ts';
import { createEmbeddingScheduler } from '../../src/rag/embedders/embedding-scheduler.ts';
import {
  createLlmProviderEmbedder,
  EmbeddingsUnsupportedError,
} from '../../src/rag/embedders/llm-provider-embedder.ts';
import { createOfflineEmbedder, offlineEmbeddingModel } from '../../src/rag/embedders/offline-embedder.ts';
import { createOpenAiCompatibleEmbedder } from '../../src/rag/embedders/openai-compatible-embedder.ts';

describe('dimension scheme', () => {
  it('zero-pads to 768 and keeps cosine similarity exact', () => {
    const left = [0.3, -0.2, 0.9, 0.1];
    const right = [0.1, 0.4, 0.5, -0.7];
    const padded = [toStoredEmbedding(left), toStoredEmbedding(right)] as const;
    expect(padded[0]).toHaveLength(storedEmbeddingDimensions);
    expect(cosineSimilarity(padded[0], padded[1])).toBeCloseTo(cosineSimilarity(left, right), 12);
    expect(() => toStoredEmbedding(new Array(1_024).fill(0))).toThrow(EmbeddingDimensionsError);
  });
});

describe('createOfflineEmbedder', () => {
  it('embeds offline into 512-dimension unit vectors that rank the matching text first', async () => {
    const embedder = createOfflineEmbedder();
    expect(embedder.model).toBe(offlineEmbeddingModel);
    const [question, password, pipeline] = await embedder.embed([
      'How do I reset my password?',
      'To reset your password, select Forgot your password on the sign-in page.',
      'A pipeline runs jobs in stages when you push commits.',
    ]);
    expect(question).toHaveLength(512);
    expect(Math.hypot(...(question ?? []))).toBeCloseTo(1, 3);
    expect(cosineSimilarity(question!, password!)).toBeGreaterThan(cosineSimilarity(question!, pipeline!));
  });
});

describe('createEmbeddingScheduler', () => {
  it('batches, caps concurrency and spaces request starts', async () => {
    const scheduler = createEmbeddingScheduler({ batchSize: 2, concurrency: 2, requestsPerSecond: 20 });
    const starts: number[] = [];
    let active = 0;
    let maxActive = 0;
    const texts = Array.from({ length: 9 }, (_, index) => `text ${index}`);
    const vectors = await scheduler.run(texts, async (batch) => {
      starts.push(Date.now());
      active += 1;
      maxActive = Math.max(maxActive, active);
      await new Promise((resolve) => setTimeout(resolve, 30));
      active -= 1;
      return batch.map((text) => [Number(text.split(' ')[1])]);
    });
    expect(vectors).toEqual(texts.map((_, index) => [index]));
    expect(starts).toHaveLength(5);
    expect(maxActive).toBeLessThanOrEqual(2);
    // 20 requests/s = one start per 50 ms; allow timer jitter.
    expect((starts.at(-1) ?? 0) - (starts[0] ?? 0)).toBeGreaterThanOrEqual(4 * 50 - 15);
  });
});

describe('createOpenAiCompatibleEmbedder', () => {
  it('posts /embeddings and returns vectors in input order, validated', async () => {
    const requests: { url: string; body: unknown; authorization: string | null }[] = [];
    const fakeFetch: typeof fetch = async (input, init) => {
      const body = JSON.parse(String(init?.body)) as { input: string[] };
      requests.push({
        url: String(input),
        body,
        authorization: new Headers(init?.headers).get('authorization'),
      });
      // Out of order on purpose: clients must sort by `index`.
      const data = body.input.map((text, index) => ({ index, embedding: [text.length, index] })).reverse();
      return Response.json({ object: 'list', data, model: 'm', usage: { prompt_tokens: 1, total_tokens: 1 } });
    };
    const embedder = createOpenAiCompatibleEmbedder({
      baseUrl: 'http://127.0.0.1:9/v1/',
      model: 'nomic-embed-text',
      dimensions: 2,
      apiKey: 'secret',
      batchSize: 2,
      requestsPerSecond: 1_000,
      fetch: fakeFetch,
    });
    expect(await embedder.embed(['a', 'bb', 'ccc'])).toEqual([
      [1, 0],
      [2, 1],
      [3, 0],
    ]);
    expect(requests).toHaveLength(2);
    expect(requests[0]).toEqual({
      url: 'http://127.0.0.1:9/v1/embeddings',
      body: { model: 'nomic-embed-text', input: ['a', 'bb'], encoding_format: 'float' },
      authorization: 'Bearer secret',
    });
  });

  it('maps HTTP errors and malformed bodies to LlmError', async () => {
    const limited = createOpenAiCompatibleEmbedder({
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'm',
      dimensions: 2,
      fetch: async () =>
        new Response('{"error":{"message":"slow down"}}', { status: 429, headers: { 'retry-after': '2' } }),
    });
    const error = await limited.embed(['a']).catch((caught: unknown) => caught);
    expect(LlmError.isInstance(error) && [error.code, error.isRetryable, error.retryAfterMs]).toEqual([
      'rate_limited',
      true,
      2_000,
    ]);
    const malformed = createOpenAiCompatibleEmbedder({
      baseUrl: 'http://127.0.0.1:9/v1',
      model: 'm',
      dimensions: 2,
      fetch: async () => Response.json({ data: [{ index: 0, embedding: 'nope' }] }),
    });
    await expect(malformed.embed(['a'])).rejects.toThrow('unexpected body');
  });
});

describe('createLlmProviderEmbedder', () => {
  const provider = (embed?: LlmProvider['embed']): LlmProvider => ({
    id: 'vertex',
    complete: async () => {
      throw new Error('unused');
    },
    stream: async function* () {
      yield* [];
    },
    ...(embed ? { embed } : {}),
  });

  it('uses the provider embed in batches', async () => {
    const calls: string[][] = [];
    const embedder = createLlmProviderEmbedder(
      provider(async (texts) => {
        calls.push(texts);
        return texts.map(() => new Array(768).fill(0.01));
      }),
      { model: 'vertex:text-embedding-005', dimensions: 768, batchSize: 3, requestsPerSecond: 1_000 },
    );
    const vectors = await embedder.embed(['a', 'b', 'c', 'd']);
    expect(vectors).toHaveLength(4);
    expect(calls.map((batch) => batch.length)).toEqual([3, 1]);
  });

  it('refuses providers without embeddings', () => {
    expect(() => createLlmProviderEmbedder(provider(), { model: 'x', dimensions: 768 })).toThrow(
      EmbeddingsUnsupportedError,
    );
  });
});
