import { LlmError } from '../errors.ts';
import type { LlmStreamPart } from '../types.ts';
import { abortableSleep } from './abortable-sleep.ts';

export interface RetryOptions {
  /** Attempts in total, the first included. GitLab's `MAX_RETRIES = 3`. */
  maxAttempts?: number;
  /**
   * Base of the backoff. GitLab's `INITIAL_DELAY = 1 s`, multiplied by `2 × (1 + random)` before every wait,
   * so the first wait is 2–4 s and the second 4–16 s. Tests set a few milliseconds.
   */
  initialDelayMs?: number;
  /** Cap on one computed backoff wait (not on a provider's retry-after). */
  maxDelayMs?: number;
  /**
   * A provider's retry-after longer than this ends the retries at once: holding a worker slot for minutes helps
   * nobody, and the fallback provider or the job queue can take over.
   */
  maxRetryAfterMs?: number;
  /** Source of jitter in [0, 1); injectable so tests are deterministic. */
  random?: () => number;
  /** The caller's signal: aborting cancels the wait between attempts too. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log GitLab's "Too many requests, will retry in <d> seconds". */
  onRetry?: (event: { attempt: number; delayMs: number; error: LlmError }) => void;
}

/** The retry policy as a stateful function: the delay before the next attempt, or undefined to give up. */
function createRetryPolicy(options: RetryOptions) {
  const maxAttempts = options.maxAttempts ?? 3;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 60_000;
  const random = options.random ?? Math.random;
  let backoffMs = options.initialDelayMs ?? 1_000;
  return (error: LlmError, attempt: number): number | undefined => {
    if (!error.isRetryable || attempt >= maxAttempts) return undefined;
    // Advanced on every retry, even one that honours retry-after, so later waits keep growing.
    backoffMs = Math.min(backoffMs * 2 * (1 + random()), maxDelayMs);
    if (error.retryAfterMs !== undefined) return error.retryAfterMs <= maxRetryAfterMs ? error.retryAfterMs : undefined;
    return backoffMs;
  };
}

/**
 * Runs `call` until it succeeds, retrying only `LlmError`s marked `isRetryable` (rate limits, overload,
 * timeouts, unavailability) with exponential backoff and jitter, honouring the provider's retry-after. Other
 * errors, and the last retryable one, are rethrown unchanged.
 */
export async function withRetry<Result>(
  call: (attempt: number) => Promise<Result>,
  options: RetryOptions = {},
): Promise<Result> {
  const nextDelay = createRetryPolicy(options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await call(attempt);
    } catch (error) {
      if (!LlmError.isInstance(error)) throw error;
      const delayMs = nextDelay(error, attempt);
      if (delayMs === undefined) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await abortableSleep(delayMs, options.signal, error.provider);
    }
  }
}

/**
 * The streaming counterpart of {@link withRetry}: a failed attempt is retried only while it has yielded no
 * text. Once text reached the consumer a retry would duplicate it, so the error is rethrown as it is.
 */
export async function* retryStream(
  open: (attempt: number) => AsyncIterable<LlmStreamPart>,
  options: RetryOptions = {},
): AsyncIterable<LlmStreamPart> {
  const nextDelay = createRetryPolicy(options);
  for (let attempt = 1; ; attempt++) {
    let yieldedText = false;
    try {
      for await (const part of open(attempt)) {
        if (part.type === 'text-delta') yieldedText = true;
        yield part;
      }
      return;
    } catch (error) {
      if (!LlmError.isInstance(error) || yieldedText) throw error;
      const delayMs = nextDelay(error, attempt);
      if (delayMs === undefined) throw error;
      options.onRetry?.({ attempt, delayMs, error });
      await abortableSleep(delayMs, options.signal, error.provider);
    }
  }
}
