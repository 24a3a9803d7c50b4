import { LlmError } from '../errors.ts';
import type { CodeCompletionProvider, CodeCompletionRequest } from '../providers/shared/code-completion.ts';
import type { LlmCallOptions, LlmProvider, LlmRequest, LlmResult, LlmStreamPart } from '../types.ts';
import type { CircuitPermit } from './circuit-breaker.ts';
import type { CircuitBreakerRegistry } from './circuit-breaker-registry.ts';
import { type RetryOptions, retryStream, withRetry } from './with-retry.ts';
import { streamWithTimeout, withTimeout } from './with-timeout.ts';

function canCompleteCode(provider: LlmProvider): provider is LlmProvider & CodeCompletionProvider {
  return typeof (provider as Partial<CodeCompletionProvider>).completeCode === 'function';
}

/** One link of the chain: a provider and the model to ask it for. */
export interface FallbackEntry {
  provider: LlmProvider;
  /** Model for this provider; the request's `model` when absent (so only meaningful for the first entry). */
  model?: string;
}

export interface FallbackProviderOptions {
  /** Registry id of the combined provider; `fallback` by default. */
  id?: string;
  /** Breakers, one per `<providerId>:<model>`; without them every provider is always tried. */
  breakers?: CircuitBreakerRegistry;
  /** Retries per provider before moving on (`signal` is taken from each call). */
  retry?: Omit<RetryOptions, 'signal'>;
  /** Per attempt: the whole call for `complete`, the wait for each part for `stream` (see `streamWithTimeout`). */
  timeoutMs?: number;
}

const allowAll: CircuitPermit = { success: () => undefined, failure: () => undefined, release: () => undefined };

/**
 * An {@link LlmProvider} that tries providers in order. A provider is skipped while its breaker is open, and
 * left for the next one when its retries are exhausted on a retryable error (rate limit, overload, timeout,
 * unavailable). Non-retryable errors (bad request, auth, content blocked, cancelled) are thrown at once: another
 * provider would not fix them, and falling through would hide them.
 *
 * Which provider served is reported in `model` as `<providerId>:<model>` (e.g. `anthropic:claude-sonnet-4-5`),
 * in both `LlmResult.model` and the stream's `finish` part.
 *
 * A stream that already yielded text is never retried nor handed to another provider: the consumer has shown
 * that text. The error thrown then keeps the provider's code but is marked not retryable, and says so.
 */
export function createFallbackProvider(
  providers: (LlmProvider | FallbackEntry)[],
  options: FallbackProviderOptions = {},
): LlmProvider {
  const id = options.id ?? 'fallback';
  const entries: FallbackEntry[] = providers.map((item) => ('provider' in item ? item : { provider: item }));
  if (entries.length === 0) throw new Error('createFallbackProvider needs at least one provider');

  function target(entry: FallbackEntry, request: LlmRequest) {
    const model = entry.model ?? request.model;
    return {
      request: model === undefined ? request : { ...request, model },
      breakerName: `${entry.provider.id}:${model ?? 'default'}`,
    };
  }

  async function permitFor(breakerName: string): Promise<CircuitPermit | undefined> {
    const breaker = options.breakers?.get(breakerName);
    return breaker ? breaker.tryAcquire() : allowAll;
  }

  function noProviderLeft(failures: LlmError[], skipped: string[]): LlmError {
    const last = failures.at(-1);
    const retryIns = skipped.map((name) => options.breakers?.get(name).retryInMs() ?? 0).filter((ms) => ms > 0);
    const parts = [
      ...failures.map((failure) => `${failure.provider} failed (${failure.code})`),
      ...skipped.map((name) => `${name} skipped (circuit open)`),
    ];
    return new LlmError({
      code: last?.code ?? 'unavailable',
      provider: last?.provider ?? id,
      message: `No provider could answer: ${parts.join('; ')}.`,
      statusCode: last?.statusCode,
      retryAfterMs: last?.retryAfterMs ?? (retryIns.length ? Math.min(...retryIns) : undefined),
      cause: failures.length > 1 ? new AggregateError(failures) : last,
    });
  }

  /**
   * The first answer of the entries, in order: each behind its breaker, with retries and a timeout per attempt;
   * a non-retryable error ends the chain at once.
   */
  async function firstAnswer(
    candidates: FallbackEntry[],
    requestModel: string | undefined,
    signal: AbortSignal | undefined,
    call: (entry: FallbackEntry, model: string | undefined, options: LlmCallOptions) => Promise<LlmResult>,
  ): Promise<LlmResult> {
    const failures: LlmError[] = [];
    const skipped: string[] = [];
    for (const entry of candidates) {
      const model = entry.model ?? requestModel;
      const breakerName = `${entry.provider.id}:${model ?? 'default'}`;
      const permit = await permitFor(breakerName);
      if (!permit) {
        skipped.push(breakerName);
        continue;
      }
      try {
        const result = await withRetry(
          () =>
            withTimeout((attemptSignal) => call(entry, model, attemptSignal ? { signal: attemptSignal } : {}), {
              timeoutMs: options.timeoutMs,
              signal,
              provider: entry.provider.id,
            }),
          { ...options.retry, signal },
        );
        permit.success();
        return { ...result, model: `${entry.provider.id}:${result.model}` };
      } catch (error) {
        permit.failure(error);
        if (!LlmError.isInstance(error) || !error.isRetryable) throw error;
        failures.push(error);
      }
    }
    throw noProviderLeft(failures, skipped);
  }

  // Fill-in-the-middle when the chain's first provider has it (a self-hosted code model, Vertex code-gecko): the
  // code-suggestion path then asks for it, through the same breakers, retries and timeouts, falling back only to
  // providers that can also complete code.
  const codeEntries = entries.filter((entry) => canCompleteCode(entry.provider));
  const codeCompletion: Partial<CodeCompletionProvider> =
    entries[0] && canCompleteCode(entries[0].provider)
      ? {
          completeCode: (request: CodeCompletionRequest, callOptions: LlmCallOptions = {}) =>
            firstAnswer(codeEntries, request.model, callOptions.signal, (entry, model, attempt) =>
              (entry.provider as LlmProvider & CodeCompletionProvider).completeCode(
                model === undefined ? request : { ...request, model },
                attempt,
              ),
            ),
        }
      : {};

  return {
    id,
    ...codeCompletion,

    complete(request: LlmRequest, callOptions: LlmCallOptions = {}): Promise<LlmResult> {
      return firstAnswer(entries, request.model, callOptions.signal, (entry, model, attempt) =>
        entry.provider.complete(model === undefined ? request : { ...request, model }, attempt),
      );
    },

    async *stream(request: LlmRequest, callOptions: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      const { signal } = callOptions;
      const failures: LlmError[] = [];
      const skipped: string[] = [];
      for (const entry of entries) {
        const { request: routed, breakerName } = target(entry, request);
        const permit = await permitFor(breakerName);
        if (!permit) {
          skipped.push(breakerName);
          continue;
        }
        let deltas = 0;
        try {
          const parts = retryStream(
            () =>
              streamWithTimeout((attemptSignal) => entry.provider.stream(routed, { signal: attemptSignal }), {
                timeoutMs: options.timeoutMs,
                signal,
                provider: entry.provider.id,
              }),
            { ...options.retry, signal },
          );
          for await (const part of parts) {
            if (part.type === 'text-delta') {
              deltas++;
              yield part;
            } else {
              yield { ...part, model: `${entry.provider.id}:${part.model}` };
            }
          }
          permit.success();
          return;
        } catch (error) {
          permit.failure(error);
          if (!LlmError.isInstance(error)) throw error;
          if (deltas > 0) {
            throw new LlmError({
              code: error.code,
              provider: error.provider,
              message: `${breakerName} failed after streaming ${deltas} text chunks; not retried and not sent to another provider, because the text already reached the consumer.`,
              statusCode: error.statusCode,
              isRetryable: false,
              cause: error,
            });
          }
          if (!error.isRetryable) throw error;
          failures.push(error);
        } finally {
          // The consumer stopped reading (or an error escaped above): nothing is reported twice, permits are idempotent.
          permit.release();
        }
      }
      throw noProviderLeft(failures, skipped);
    },
  };
}
