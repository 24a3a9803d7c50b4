import { z } from 'zod';
import { LlmError, type LlmErrorCode } from '../../llm/errors.ts';
import type { Embedder, EmbedOptions } from './embedder.ts';
import { createEmbeddingScheduler } from './embedding-scheduler.ts';

/** OpenAI accepts up to 2,048 inputs per request; 64 keeps a request small enough to retry cheaply. */
const defaultBatchSize = 64;
/** Two requests in flight hide one round trip without bursting a self-hosted server. */
const defaultConcurrency = 2;
/** GitLab's `EMBEDDINGS_PER_SECOND = 7`, chosen against Vertex's 600 requests/minute default quota. */
const defaultRequestsPerSecond = 7;

export interface OpenAiCompatibleEmbedderOptions {
  /** Base URL including the version segment, as the `openai` client takes it: `http://127.0.0.1:8000/v1`. */
  baseUrl: string;
  /** Model name sent in the body and recorded per row. */
  model: string;
  /** Width of the returned vectors (at most 768). */
  dimensions: number;
  /** Sent as `Authorization: Bearer`; omitted when absent (local servers). */
  apiKey?: string;
  /** Asks the server for shorter vectors (`text-embedding-3-*` honour it); not sent when absent. */
  requestDimensions?: number;
  /** Texts per request; default 64. */
  batchSize?: number;
  /** Requests in flight; default 2. */
  concurrency?: number;
  /** Request starts per second; default 7 (GitLab's `EMBEDDINGS_PER_SECOND`). */
  requestsPerSecond?: number;
  /** Injected in tests; default the global `fetch`. */
  fetch?: typeof fetch;
}

const embeddingsResponseSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number()) })),
});

function codeForStatus(status: number): LlmErrorCode {
  if (status === 401 || status === 403) return 'auth';
  if (status === 429) return 'rate_limited';
  if (status === 408) return 'timeout';
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'unavailable';
  return 'bad_request';
}

/** An embedder over any OpenAI-compatible `POST /v1/embeddings` (OpenAI, vLLM, TEI, Ollama), with plain fetch. */
export function createOpenAiCompatibleEmbedder(options: OpenAiCompatibleEmbedderOptions): Embedder {
  const provider = 'openai_compatible_embeddings';
  const fetchImplementation = options.fetch ?? fetch;
  const endpoint = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
  const scheduler = createEmbeddingScheduler({
    batchSize: options.batchSize ?? defaultBatchSize,
    concurrency: options.concurrency ?? defaultConcurrency,
    requestsPerSecond: options.requestsPerSecond ?? defaultRequestsPerSecond,
  });

  async function send(texts: string[], signal: AbortSignal | undefined): Promise<number[][]> {
    let response: Response;
    try {
      response = await fetchImplementation(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: options.model,
          input: texts,
          encoding_format: 'float',
          ...(options.requestDimensions ? { dimensions: options.requestDimensions } : {}),
        }),
        ...(signal ? { signal } : {}),
      });
    } catch (error) {
      const cancelled = signal?.aborted === true;
      throw new LlmError({
        code: cancelled ? 'cancelled' : 'unavailable',
        provider,
        message: cancelled ? 'The embedding request was cancelled.' : `Could not reach ${endpoint}.`,
        cause: error,
      });
    }
    if (!response.ok) {
      const retryAfterSeconds = Number(response.headers.get('retry-after'));
      throw new LlmError({
        code: codeForStatus(response.status),
        provider,
        statusCode: response.status,
        message: `The embeddings endpoint answered HTTP ${response.status}.`,
        ...(Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0
          ? { retryAfterMs: retryAfterSeconds * 1_000 }
          : {}),
      });
    }
    const parsed = embeddingsResponseSchema.safeParse(await response.json().catch(() => undefined));
    if (!parsed.success) {
      throw new LlmError({
        code: 'unavailable',
        provider,
        message: 'The embeddings endpoint returned an unexpected body.',
        cause: parsed.error,
      });
    }
    const vectors = new Array<number[]>(texts.length);
    for (const item of parsed.data.data) vectors[item.index] = item.embedding;
    if (vectors.some((vector) => vector === undefined) || parsed.data.data.length !== texts.length) {
      throw new LlmError({
        code: 'unavailable',
        provider,
        message: `The embeddings endpoint returned ${parsed.data.data.length} embeddings for ${texts.length} inputs.`,
      });
    }
    return vectors;
  }

  return {
    model: options.model,
    dimensions: options.dimensions,
    embed(texts: string[], callOptions: EmbedOptions = {}) {
      return scheduler.run(texts, send, callOptions.signal);
    },
  };
}
