import { setTimeout as sleep } from 'node:timers/promises';
import { LlmError } from '../../errors.ts';
import {
  estimateTokens,
  type LlmCallOptions,
  type LlmProvider,
  type LlmRequest,
  type LlmResult,
  type LlmStreamPart,
} from '../../types.ts';
import { fakeAgentAnswer } from './fake-agent-answer.ts';

export interface FakeProviderOptions {
  /** Milliseconds to wait before each chunk; 0 yields without a timer. */
  latencyMs?: number;
  /** Characters per streamed chunk. */
  chunkSize?: number;
  /** The answer for a request; the default is a deterministic text derived from the prompt. */
  respond?: (request: LlmRequest) => string;
  /**
   * Keep every request in `calls` (the default, for tests). The service's own fake (USE_FAKE_MODELS) turns it
   * off: a long-running process would otherwise hold every prompt it was ever sent (bench/results/soak.md).
   */
  recordCalls?: boolean;
  /** Registry id; `fake` by default. Two fakes with different ids can stand for two providers in fallback tests. */
  id?: string;
  /**
   * Failure injection. A single failure applies to every call; an array is consumed one item per call
   * (`undefined` items and calls past the end succeed); a function decides per call (`callNumber` from 1).
   */
  failures?:
    | FakeFailure
    | (FakeFailure | undefined)[]
    | ((request: LlmRequest, callNumber: number) => FakeFailure | undefined);
}

/** A scripted provider failure, shaped like what the real adapters throw. */
export type FakeFailure =
  /** HTTP 429 with the provider's retry-after. */
  | { kind: 'rate-limited'; retryAfterMs?: number }
  /** Anthropic's 529 `overloaded_error`. */
  | { kind: 'overloaded'; retryAfterMs?: number }
  /** The provider's own HTTP timeout fired. */
  | { kind: 'timeout' }
  /** No answer until the caller aborts (then `cancelled`): exercises caller timeouts and cancellation. */
  | { kind: 'hang' }
  /** The stream breaks after `afterChunks` text chunks (`complete` fails outright). */
  | { kind: 'cut-stream'; afterChunks: number }
  /** Any other error, thrown before the first chunk. */
  | { kind: 'error'; error: LlmError };

export const fakeModelName = 'fake-model';

/**
 * The deterministic answer: names what was asked so tests and demos can see it. Prompts put context
 * (conversation, resource) before the question, so the last paragraph of the last turn is quoted.
 */
export function defaultFakeAnswer(request: LlmRequest): string {
  const agentStep = fakeAgentAnswer(request);
  if (agentStep !== undefined) return agentStep;
  // Question categorization asks for JSON: answer with a plausible category so the pipeline runs offline.
  if (request.system?.includes('You classify questions')) {
    const question = /<question>\n([\s\S]*?)\n<\/question>/.exec(request.messages.at(-1)?.content ?? '')?.[1] ?? '';
    const category = /\b(?:code|function|refactor|test|bug)\b/i.test(question)
      ? 'Write, improve, or explain code'
      : /\b(?:issue|epic|merge request)\b/i.test(question)
        ? 'Explain something besides code'
        : /^\s*(?:how|what|where|can|does)\b/i.test(question)
          ? 'Documentation about GitLab'
          : 'Other';
    return JSON.stringify({ category, detailed_category: `Fake: ${category}`, language: 'en' });
  }
  const lastTurn =
    (request.messages.at(-1)?.content ?? '')
      .trim()
      .split(/\n\s*\n/)
      .at(-1) ?? '';
  const excerpt = lastTurn.length > 120 ? `${lastTurn.slice(0, 117)}...` : lastTurn;
  const answer = `**Fake model answer.** You asked about: "${excerpt.replace(/\s+/g, ' ').trim()}". This reply is canned (USE_FAKE_MODELS).`;
  // A documentation prompt quotes chunks with `ATTRS: CNT-IDX-<id>`: cite the first, as a real model is asked to.
  const quoted = /ATTRS: (CNT-IDX-\d+)/.exec(request.messages.at(-1)?.content ?? '')?.[1];
  return quoted ? `${answer}\nATTRS: ${quoted}` : answer;
}

export type FakeProvider = LlmProvider & {
  /** Every request received, in order, so tests can assert on the prompt. */
  readonly calls: LlmRequest[];
};

/** A provider that answers deterministically, for development, tests and benchmarks. */
export function createFakeProvider(options: FakeProviderOptions = {}): FakeProvider {
  const latencyMs = options.latencyMs ?? 0;
  const chunkSize = options.chunkSize ?? 12;
  const respond = options.respond ?? defaultFakeAnswer;
  const id = options.id ?? 'fake';
  const calls: LlmRequest[] = [];
  const recordCalls = options.recordCalls ?? true;
  let callCount = 0;

  function throwIfAborted(signal: AbortSignal | undefined): void {
    if (signal?.aborted) {
      throw new LlmError({
        code: 'cancelled',
        provider: id,
        message: 'The request was cancelled.',
        cause: signal.reason,
      });
    }
  }

  function failureFor(request: LlmRequest): FakeFailure | undefined {
    const { failures } = options;
    if (failures === undefined) return undefined;
    if (typeof failures === 'function') return failures(request, callCount);
    if (Array.isArray(failures)) return failures[callCount - 1];
    return failures;
  }

  /** Throws the failure's error unless it only cuts a stream later; `hang` waits for the caller's abort first. */
  async function failBeforeAnswer(failure: FakeFailure | undefined, signal: AbortSignal | undefined): Promise<void> {
    if (!failure || failure.kind === 'cut-stream') return;
    if (failure.kind === 'hang') {
      await new Promise<void>((resolve) => {
        if (signal?.aborted) resolve();
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
      throwIfAborted(signal);
    }
    throw fakeError(failure);
  }

  function fakeError(failure: FakeFailure): LlmError {
    switch (failure.kind) {
      case 'rate-limited':
        return new LlmError({
          code: 'rate_limited',
          provider: id,
          statusCode: 429,
          message: 'Fake 429.',
          retryAfterMs: failure.retryAfterMs,
        });
      case 'overloaded':
        return new LlmError({
          code: 'overloaded',
          provider: id,
          statusCode: 529,
          message: 'Fake 529.',
          retryAfterMs: failure.retryAfterMs,
        });
      case 'timeout':
        return new LlmError({ code: 'timeout', provider: id, message: 'Fake timeout.' });
      case 'error':
        return failure.error;
      default:
        return new LlmError({ code: 'unavailable', provider: id, message: 'Fake connection cut.' });
    }
  }

  function usageOf(request: LlmRequest, text: string) {
    const promptText = (request.system ?? '') + request.messages.map((message) => message.content).join('');
    return { inputTokens: estimateTokens(promptText), outputTokens: estimateTokens(text), estimated: true };
  }

  return {
    id,
    calls,
    async complete(request: LlmRequest, callOptions: LlmCallOptions = {}): Promise<LlmResult> {
      if (recordCalls) calls.push(request);
      callCount += 1;
      const failure = failureFor(request);
      await failBeforeAnswer(failure, callOptions.signal);
      if (failure?.kind === 'cut-stream') throw fakeError(failure);
      throwIfAborted(callOptions.signal);
      if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: callOptions.signal }).catch(() => undefined);
      throwIfAborted(callOptions.signal);
      const text = respond(request);
      return { text, finishReason: 'stop', usage: usageOf(request, text), model: request.model ?? fakeModelName };
    },
    async *stream(request: LlmRequest, callOptions: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      if (recordCalls) calls.push(request);
      callCount += 1;
      const failure = failureFor(request);
      await failBeforeAnswer(failure, callOptions.signal);
      const text = respond(request);
      for (let offset = 0, chunk = 0; offset < text.length; offset += chunkSize, chunk++) {
        if (failure?.kind === 'cut-stream' && chunk === failure.afterChunks) throw fakeError(failure);
        throwIfAborted(callOptions.signal);
        if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: callOptions.signal }).catch(() => undefined);
        throwIfAborted(callOptions.signal);
        yield { type: 'text-delta', text: text.slice(offset, offset + chunkSize) };
      }
      yield {
        type: 'finish',
        finishReason: 'stop',
        usage: usageOf(request, text),
        model: request.model ?? fakeModelName,
      };
    },
  };
}
