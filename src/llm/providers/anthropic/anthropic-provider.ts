import Anthropic from '@anthropic-ai/sdk';
import { LlmError } from '../../errors.ts';
import {
  estimateTokens,
  type LlmCallOptions,
  type LlmProvider,
  type LlmRequest,
  type LlmResult,
  type LlmStreamPart,
  type LlmUsage,
} from '../../types.ts';
import { mapAnthropicError } from './map-anthropic-error.ts';
import { mapAnthropicStopReason } from './map-anthropic-stop-reason.ts';

export interface AnthropicProviderOptions {
  /** Sent by SDK 1.x as `Authorization: Bearer <apiKey>` (0.x sent `x-api-key`). */
  apiKey: string;
  /** API root without `/v1`, e.g. a proxy or a stand-in; the SDK default is `https://api.anthropic.com`. */
  baseURL?: string;
  /** Model used when a request names none, e.g. `claude-sonnet-4-5`. */
  defaultModel: string;
  /** `max_tokens` when a request sets none; the API requires one. GitLab's default is 2048. */
  defaultMaxTokens?: number;
  /**
   * The SDK's own retries. Default 0: `src/llm/resilience` retries, and two retry loops stacked multiply the
   * attempts (3 × 3) and hide 429s from the circuit breaker.
   */
  maxRetries?: number;
  /** Per-attempt HTTP timeout in the SDK. GitLab's client used 30 s; the SDK's own default is 10 minutes. */
  timeoutMs?: number;
  /** Registry id reported in errors; `anthropic` unless several Anthropic accounts are configured. */
  id?: string;
}

/**
 * Temperature travels in the request body although SDK 1.x removed it from `MessageCreateParams` (API version
 * 2026-10-21 still accepts it, and GitLab's prompts rely on 0 for stable answers). The SDK serialises the whole
 * params object, so an intersection with the one extra field keeps the call typed without casts.
 */
type WithTemperature<Params> = Params & { temperature?: number };

/** An {@link LlmProvider} over the Anthropic Messages API (`POST /v1/messages`), via `@anthropic-ai/sdk`. */
export function createAnthropicProvider(options: AnthropicProviderOptions): LlmProvider {
  const id = options.id ?? 'anthropic';
  const defaultMaxTokens = options.defaultMaxTokens ?? 2048;
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseURL === undefined ? {} : { baseURL: options.baseURL }),
    maxRetries: options.maxRetries ?? 0,
    timeout: options.timeoutMs ?? 30_000,
  });

  function baseParams(request: LlmRequest) {
    return {
      model: request.model ?? options.defaultModel,
      max_tokens: request.maxTokens ?? defaultMaxTokens,
      messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
      ...(request.system === undefined ? {} : { system: request.system }),
      ...(request.stopSequences?.length ? { stop_sequences: request.stopSequences } : {}),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    };
  }

  function usageOf(
    request: LlmRequest,
    text: string,
    inputTokens?: number | null,
    outputTokens?: number | null,
  ): LlmUsage {
    if (typeof inputTokens === 'number' && typeof outputTokens === 'number') {
      return { inputTokens, outputTokens, estimated: false };
    }
    const prompt = (request.system ?? '') + request.messages.map((message) => message.content).join('');
    return { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(text), estimated: true };
  }

  return {
    id,

    async complete(request: LlmRequest, callOptions: LlmCallOptions = {}): Promise<LlmResult> {
      const { signal } = callOptions;
      const params: WithTemperature<Anthropic.MessageCreateParamsNonStreaming> = {
        ...baseParams(request),
        stream: false,
      };
      try {
        const message = await client.messages.create(params, { signal });
        const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
        return {
          text,
          finishReason: mapAnthropicStopReason(message.stop_reason),
          usage: usageOf(request, text, message.usage.input_tokens, message.usage.output_tokens),
          model: message.model,
        };
      } catch (error) {
        throw mapAnthropicError(error, { provider: id, signal });
      }
    },

    async *stream(request: LlmRequest, callOptions: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      const { signal } = callOptions;
      const params: WithTemperature<Anthropic.MessageCreateParamsStreaming> = { ...baseParams(request), stream: true };
      let events: AsyncIterable<Anthropic.RawMessageStreamEvent>;
      try {
        events = await client.messages.create(params, { signal });
      } catch (error) {
        throw mapAnthropicError(error, { provider: id, signal });
      }

      let model = params.model;
      let inputTokens: number | null | undefined;
      let outputTokens: number | null | undefined;
      let stopReason: string | null | undefined;
      let sawMessageStop = false;
      let text = '';
      try {
        for await (const event of events) {
          switch (event.type) {
            case 'message_start':
              model = event.message.model;
              inputTokens = event.message.usage.input_tokens;
              outputTokens = event.message.usage.output_tokens;
              break;
            case 'content_block_delta':
              if (event.delta.type === 'text_delta' && event.delta.text !== '') {
                text += event.delta.text;
                yield { type: 'text-delta', text: event.delta.text };
              }
              break;
            case 'message_delta':
              stopReason = event.delta.stop_reason;
              // Cumulative counts: the last message_delta has the totals.
              outputTokens = event.usage.output_tokens ?? outputTokens;
              inputTokens = event.usage.input_tokens ?? inputTokens;
              break;
            case 'message_stop':
              sawMessageStop = true;
              break;
            default:
              break;
          }
        }
      } catch (error) {
        throw mapAnthropicError(error, { provider: id, signal });
      }
      // The SDK ends iteration silently when its request is aborted, and a proxy may close a response cleanly
      // mid-message: without `message_stop` the answer is incomplete and must not pass for a finished one.
      if (!sawMessageStop) {
        throw signal?.aborted
          ? new LlmError({
              code: 'cancelled',
              provider: id,
              message: 'The Anthropic stream was cancelled.',
              cause: signal.reason,
            })
          : new LlmError({
              code: 'unavailable',
              provider: id,
              message: 'The Anthropic stream ended before message_stop.',
            });
      }
      yield {
        type: 'finish',
        finishReason: mapAnthropicStopReason(stopReason),
        usage: usageOf(request, text, inputTokens, outputTokens),
        model,
      };
    },
  };
}
