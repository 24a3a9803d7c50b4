import { LlmError } from '../../errors.ts';
import {
  estimateTokens,
  type LlmCallOptions,
  type LlmFinishReason,
  type LlmProvider,
  type LlmRequest,
  type LlmResult,
  type LlmStreamPart,
  type LlmUsage,
} from '../../types.ts';
import type { CodeCompletionProvider, CodeCompletionRequest } from '../shared/code-completion.ts';
import { readServerSentEvents } from '../shared/read-server-sent-events.ts';
import { type FimFamily, fimFamilyForModel, fimTemplates } from './fim-templates.ts';
import { errorFromResponse, errorFromStreamFrame, mapTransportError } from './map-openai-compatible-error.ts';
import {
  chatCompletionChunk,
  chatCompletionResponse,
  completionResponse,
  embeddingResponse,
  errorBody,
  parseJsonWith,
} from './openai-compatible-schemas.ts';

/*
 * Plain fetch rather than the `openai` package: it is only a dev dependency here, the four endpoints we use
 * fit in this file, and the servers we target (vLLM, TGI, Ollama, llama.cpp) each deviate a little from
 * OpenAI's schemas (vLLM's `stop_reason` and flat error body, FauxPilot's whole-choice frames), which
 * lenient Zod schemas absorb where a typed client would hide or reject them. It also keeps one retry loop
 * (ours) instead of the client's built-in one.
 */

export interface OpenAICompatibleProviderOptions {
  /** Registry id and the name in errors, e.g. `self_hosted`. */
  name: string;
  /**
   * API root as the `openai` client takes it, e.g. `http://gpu-worker:8000/v1`. A URL with no path
   * (`http://gpu-worker:8000`) gets `/v1` appended, the path every server listed above uses.
   */
  baseURL: string;
  /** Sent as `Authorization: Bearer`; vLLM checks it when started with `--api-key`, Ollama ignores it. */
  apiKey?: string;
  /** Served model name for chat, e.g. `mistralai/Mistral-7B-Instruct-v0.3` (`SELF_HOSTED_MODEL_NAME`). */
  defaultModel: string;
  /** Model for {@link OpenAICompatibleProvider.completeCode}; `defaultModel` when absent. */
  codeModel?: string;
  /** Model for `embed`; `embed` fails with `bad_request` when neither this is set nor the server accepts the chat model. */
  embeddingModel?: string;
  /**
   * Ask for a final usage chunk (`stream_options.include_usage`). Default true; turn off for servers that reject
   * unknown fields; usage is then estimated.
   */
  streamUsage?: boolean;
}

export type OpenAICompatibleProvider = LlmProvider &
  CodeCompletionProvider & {
    embed(texts: string[], options?: LlmCallOptions): Promise<number[][]>;
  };

/** Code completion also accepts a FIM family when the served model name does not reveal it. */
export interface OpenAICompatibleCodeCompletionRequest extends CodeCompletionRequest {
  /** Overrides detection from the model name; `suffix-field` sends the raw `suffix` parameter (Ollama, FauxPilot). */
  fimFamily?: FimFamily | 'suffix-field';
}

function mapFinishReason(finishReason: string | null | undefined, stopReason: unknown): LlmFinishReason {
  switch (finishReason) {
    case 'stop':
      return typeof stopReason === 'string' ? 'stop-sequence' : 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    default:
      return 'other';
  }
}

function apiRoot(baseURL: string): string {
  const url = new URL(baseURL);
  const trimmed = url.href.replace(/\/+$/, '');
  return url.pathname === '/' || url.pathname === '' ? `${trimmed}/v1` : trimmed;
}

/** An {@link LlmProvider} for self-hosted models behind an OpenAI-compatible API (vLLM, TGI, Ollama, llama.cpp). */
export function createOpenAICompatibleProvider(options: OpenAICompatibleProviderOptions): OpenAICompatibleProvider {
  const provider = options.name;
  const root = apiRoot(options.baseURL);
  const streamUsage = options.streamUsage ?? true;

  async function post(
    path: string,
    body: unknown,
    signal: AbortSignal | undefined,
    stream = false,
    flags: readonly string[] = [],
  ): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${root}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: stream ? 'text/event-stream' : 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          // A GitLab AI gateway in front of the model reads these; plain model servers ignore the header.
          ...(flags.length > 0 ? { 'x-gitlab-enabled-feature-flags': flags.join(',') } : {}),
        },
        body: JSON.stringify(body),
        signal,
      });
    } catch (error) {
      throw mapTransportError(error, { provider, signal });
    }
    if (!response.ok) {
      const text = await response.text().catch(() => '');
      throw errorFromResponse(provider, response, text);
    }
    return response;
  }

  async function readText(response: Response, signal: AbortSignal | undefined): Promise<string> {
    try {
      return await response.text();
    } catch (error) {
      throw mapTransportError(error, { provider, signal });
    }
  }

  function invalidResponse(what: string): LlmError {
    return new LlmError({ code: 'unavailable', provider, message: `${provider} sent an unexpected ${what}.` });
  }

  function chatMessages(request: LlmRequest) {
    return [
      ...(request.system === undefined ? [] : [{ role: 'system', content: request.system }]),
      ...request.messages.map((message) => ({ role: message.role, content: message.content })),
    ];
  }

  function chatBody(request: LlmRequest) {
    return {
      model: request.model ?? options.defaultModel,
      messages: chatMessages(request),
      ...(request.maxTokens === undefined ? {} : { max_tokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.stopSequences?.length ? { stop: request.stopSequences } : {}),
    };
  }

  function usageOf(
    promptText: string,
    text: string,
    usage: { prompt_tokens?: number | null; completion_tokens?: number | null } | null | undefined,
  ): LlmUsage {
    if (typeof usage?.prompt_tokens === 'number' && typeof usage.completion_tokens === 'number') {
      return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens, estimated: false };
    }
    return { inputTokens: estimateTokens(promptText), outputTokens: estimateTokens(text), estimated: true };
  }

  const promptTextOf = (request: LlmRequest) =>
    (request.system ?? '') + request.messages.map((message) => message.content).join('');

  return {
    id: provider,

    async complete(request: LlmRequest, callOptions: LlmCallOptions = {}): Promise<LlmResult> {
      const { signal } = callOptions;
      const body = chatBody(request);
      const response = await post(
        '/chat/completions',
        { ...body, stream: false },
        signal,
        false,
        request.enabledFeatureFlags,
      );
      const parsed = parseJsonWith(await readText(response, signal), chatCompletionResponse);
      if (!parsed) throw invalidResponse('chat completion');
      const choice = parsed.choices[0]!;
      const text = choice.message.content ?? '';
      return {
        text,
        finishReason: mapFinishReason(choice.finish_reason, choice.stop_reason),
        usage: usageOf(promptTextOf(request), text, parsed.usage),
        model: parsed.model ?? body.model,
      };
    },

    async *stream(request: LlmRequest, callOptions: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      const { signal } = callOptions;
      const body = chatBody(request);
      const response = await post(
        '/chat/completions',
        { ...body, stream: true, ...(streamUsage ? { stream_options: { include_usage: true } } : {}) },
        signal,
        true,
        request.enabledFeatureFlags,
      );
      if (!response.body) throw invalidResponse('empty stream');
      let model = body.model;
      let text = '';
      let finishReason: string | null | undefined;
      let stopReason: unknown;
      let usage: { prompt_tokens?: number | null; completion_tokens?: number | null } | null | undefined;
      let sawDone = false;
      try {
        for await (const event of readServerSentEvents(response.body)) {
          if (event.data.startsWith('[DONE]')) {
            sawDone = true;
            break;
          }
          // Checked first: every chunk field is optional, so an error frame would also pass as an empty chunk.
          const failure = parseJsonWith(event.data, errorBody);
          if (failure) throw errorFromStreamFrame(provider, failure);
          const chunk = parseJsonWith(event.data, chatCompletionChunk);
          if (!chunk) throw invalidResponse('stream chunk');
          if (chunk.model) model = chunk.model;
          if (chunk.usage) usage = chunk.usage;
          const choice = chunk.choices?.[0];
          const delta = choice?.delta?.content;
          if (delta) {
            text += delta;
            yield { type: 'text-delta', text: delta };
          }
          if (choice?.finish_reason) {
            finishReason = choice.finish_reason;
            stopReason = choice.stop_reason;
          }
        }
      } catch (error) {
        throw mapTransportError(error, { provider, signal });
      }
      // `[DONE]` ends every complete stream; a finish_reason without it is accepted for servers that omit it.
      if (!sawDone && !finishReason) {
        throw signal?.aborted
          ? new LlmError({
              code: 'cancelled',
              provider,
              message: `The ${provider} stream was cancelled.`,
              cause: signal.reason,
            })
          : new LlmError({ code: 'unavailable', provider, message: `The ${provider} stream ended before [DONE].` });
      }
      yield {
        type: 'finish',
        finishReason: mapFinishReason(finishReason, stopReason),
        usage: usageOf(promptTextOf(request), text, usage),
        model,
      };
    },

    async embed(texts: string[], callOptions: LlmCallOptions = {}): Promise<number[][]> {
      const { signal } = callOptions;
      const model = options.embeddingModel ?? options.defaultModel;
      const response = await post('/embeddings', { model, input: texts, encoding_format: 'float' }, signal);
      const parsed = parseJsonWith(await readText(response, signal), embeddingResponse);
      if (!parsed || parsed.data.length !== texts.length) throw invalidResponse('embedding response');
      return [...parsed.data].sort((left, right) => left.index - right.index).map((item) => item.embedding);
    },

    async completeCode(
      request: OpenAICompatibleCodeCompletionRequest,
      callOptions: LlmCallOptions = {},
    ): Promise<LlmResult> {
      const { signal } = callOptions;
      const model = request.model ?? options.codeModel ?? options.defaultModel;
      const suffix = request.suffix ?? '';
      const family = request.fimFamily ?? fimFamilyForModel(model) ?? 'suffix-field';
      const template = family === 'suffix-field' ? undefined : fimTemplates[family];
      const body = {
        model,
        prompt: template ? template.prompt(request.prefix, suffix) : request.prefix,
        ...(template ? {} : { suffix }),
        max_tokens: request.maxTokens ?? template?.maxTokens ?? 64,
        temperature: request.temperature ?? template?.temperature ?? 0.2,
        stream: false,
      };
      const stop = [...(template?.stop ?? []), ...(request.stopSequences ?? [])];
      const response = await post('/completions', stop.length ? { ...body, stop } : body, signal);
      const parsed = parseJsonWith(await readText(response, signal), completionResponse);
      if (!parsed) throw invalidResponse('completion');
      const choice = parsed.choices[0]!;
      const text = choice.text ?? '';
      return {
        text,
        finishReason: mapFinishReason(choice.finish_reason, choice.stop_reason),
        usage: usageOf(request.prefix + suffix, text, parsed.usage),
        model: parsed.model ?? model,
      };
    },
  };
}
