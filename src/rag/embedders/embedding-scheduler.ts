import { setTimeout as sleep } from 'node:timers/promises';

export interface EmbeddingSchedulerOptions {
  /** Texts per request. */
  batchSize: number;
  /** Requests in flight at once, across every `run` of this scheduler. */
  concurrency: number;
  /** Request starts per second, across every `run` of this scheduler. */
  requestsPerSecond: number;
}

/** Sends one batch; the scheduler decides when. */
export type EmbedBatch = (texts: string[], signal: AbortSignal | undefined) => Promise<number[][]>;

export interface EmbeddingScheduler {
  /** Splits `texts` into batches, sends them within the limits, and returns the vectors in input order. */
  run(texts: string[], send: EmbedBatch, signal?: AbortSignal): Promise<number[][]>;
}

export class EmbeddingCountError extends Error {
  override name = 'EmbeddingCountError';
}

/**
 * Batching, a concurrency cap and a start-rate limit for remote embedding APIs, shared by every call of one
 * embedder so two concurrent seeds cannot double the request rate. The rate limit spaces request starts evenly
 * (GitLab spreads its embedding jobs the same way with a Redis counter); it is per process, which is enough for
 * a seed script that runs once at a time.
 */
export function createEmbeddingScheduler(options: EmbeddingSchedulerOptions): EmbeddingScheduler {
  const interval = 1_000 / options.requestsPerSecond;
  let nextStart = 0;
  let active = 0;
  const waiting: (() => void)[] = [];

  async function acquire(signal: AbortSignal | undefined): Promise<void> {
    while (active >= options.concurrency) {
      signal?.throwIfAborted();
      await new Promise<void>((resolve) => waiting.push(resolve));
    }
    active += 1;
    const now = Date.now();
    const start = Math.max(now, nextStart);
    nextStart = start + interval;
    try {
      if (start > now) await sleep(start - now, undefined, signal ? { signal } : {});
    } catch (error) {
      release();
      throw error;
    }
  }

  function release(): void {
    active -= 1;
    waiting.shift()?.();
  }

  return {
    async run(texts, send, signal) {
      const batches: string[][] = [];
      for (let start = 0; start < texts.length; start += options.batchSize) {
        batches.push(texts.slice(start, start + options.batchSize));
      }
      const results = await Promise.all(
        batches.map(async (batch) => {
          await acquire(signal);
          try {
            signal?.throwIfAborted();
            const vectors = await send(batch, signal);
            if (vectors.length !== batch.length) {
              throw new EmbeddingCountError(`Expected ${batch.length} embeddings, received ${vectors.length}`);
            }
            return vectors;
          } finally {
            release();
          }
        }),
      );
      return results.flat();
    },
  };
}
