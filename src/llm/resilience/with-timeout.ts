import { LlmError } from '../errors.ts';
import type { LlmStreamPart } from '../types.ts';

export interface TimeoutOptions {
  /** Milliseconds; undefined or 0 disables the timeout. */
  timeoutMs?: number;
  /** The caller's signal, composed with the timeout: either aborts the provider's HTTP request. */
  signal?: AbortSignal;
  /** Provider id for the `timeout` error. */
  provider: string;
}

function timeoutError(provider: string, timeoutMs: number, cause: unknown): LlmError {
  return new LlmError({
    code: 'timeout',
    provider,
    message: `No answer from ${provider} within ${timeoutMs} ms.`,
    cause,
  });
}

/** A promise that rejects when `signal` aborts; raced against calls that might ignore their signal. */
function rejectOnAbort(signal: AbortSignal): { promise: Promise<never>; dispose: () => void } {
  let onAbort: () => void = () => undefined;
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  promise.catch(() => undefined);
  return { promise, dispose: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * Runs one provider call with a deadline: `AbortSignal.timeout` composed with the caller's signal through
 * `AbortSignal.any`, so the timeout cancels the HTTP request itself. A timeout becomes `LlmError('timeout')`
 * (retryable); the caller's own abort stays whatever the provider threw (`cancelled`).
 */
export async function withTimeout<Result>(
  call: (signal: AbortSignal | undefined) => Promise<Result>,
  options: TimeoutOptions,
): Promise<Result> {
  const { timeoutMs, signal, provider } = options;
  if (!timeoutMs) return call(signal);
  const timeoutSignal = AbortSignal.timeout(timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeoutSignal]) : timeoutSignal;
  const aborted = rejectOnAbort(combined);
  try {
    const pending = call(combined);
    pending.catch(() => undefined);
    return await Promise.race([pending, aborted.promise]);
  } catch (error) {
    if (timeoutSignal.aborted && !signal?.aborted) throw timeoutError(provider, timeoutMs, error);
    if (signal?.aborted && !LlmError.isInstance(error)) {
      throw new LlmError({ code: 'cancelled', provider, message: 'The request was cancelled.', cause: error });
    }
    throw error;
  } finally {
    aborted.dispose();
  }
}

/**
 * Streams with an inactivity deadline: `timeoutMs` bounds the wait for the first part and between two parts,
 * not the whole answer. A long answer may stream for minutes; what marks a dead upstream is silence. A
 * resettable timer is needed for that, so this one uses an AbortController rather than `AbortSignal.timeout`.
 */
export async function* streamWithTimeout(
  open: (signal: AbortSignal | undefined) => AsyncIterable<LlmStreamPart>,
  options: TimeoutOptions,
): AsyncIterable<LlmStreamPart> {
  const { timeoutMs, signal, provider } = options;
  if (!timeoutMs) {
    yield* open(signal);
    return;
  }
  const idle = new AbortController();
  const combined = signal ? AbortSignal.any([signal, idle.signal]) : idle.signal;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(timeoutError(provider, timeoutMs, undefined)), timeoutMs);
  };
  const aborted = rejectOnAbort(combined);
  const iterator = open(combined)[Symbol.asyncIterator]();
  let finished = false;
  try {
    arm();
    for (;;) {
      const next = iterator.next();
      next.catch(() => undefined);
      const result = await Promise.race([next, aborted.promise]);
      if (result.done) {
        finished = true;
        return;
      }
      clearTimeout(timer);
      yield result.value;
      arm();
    }
  } catch (error) {
    finished = true;
    // After a timeout the provider's pending `next()` may still be running (if it ignored the signal):
    // `return()` is queued behind it and closes the generator then; on a finished generator it is a no-op.
    void iterator.return?.()?.catch(() => undefined);
    if (idle.signal.aborted && !signal?.aborted) throw timeoutError(provider, timeoutMs, error);
    if (signal?.aborted && !LlmError.isInstance(error)) {
      throw new LlmError({ code: 'cancelled', provider, message: 'The stream was cancelled.', cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    aborted.dispose();
    // Stopped early (by the consumer or a timeout): let the provider close its HTTP request.
    if (!finished) await iterator.return?.()?.catch(() => undefined);
  }
}
