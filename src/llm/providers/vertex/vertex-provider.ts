import { type Content, type GenerateContentConfig, type GenerateContentResponse, GoogleGenAI } from '@google/genai';
import type { AuthClient, GoogleAuthOptions } from 'google-auth-library';
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
import type { CodeCompletionProvider } from '../shared/code-completion.ts';
import { mapVertexError } from './map-vertex-error.ts';
import { mapVertexFinishReason } from './map-vertex-finish-reason.ts';
import { createVertexAuth } from './vertex-auth.ts';
import { createVertexCodeCompletion } from './vertex-code-completion.ts';

export interface VertexProviderOptions {
  /** Google Cloud project id (`VERTEX_AI_PROJECT`). */
  project: string;
  /** Region such as `us-central1` (`VERTEX_AI_LOCATION`), or `global`. */
  location: string;
  /**
   * Host[:port] without scheme, like GitLab's `vertex_ai_host` and `VERTEX_AI_API_ENDPOINT`; HTTPS is assumed
   * (a value with a scheme is used as a base URL as it is).
   * Default: `<location>-aiplatform.googleapis.com` (`aiplatform.googleapis.com` for `global`).
   */
  apiEndpoint?: string;
  /** A full base URL with scheme (e.g. `http://127.0.0.1:<port>` for a stand-in); wins over `apiEndpoint`. */
  baseUrl?: string;
  /** REST version; GitLab called `v1` (the SDK's default would be `v1beta1`). */
  apiVersion?: 'v1' | 'v1beta1';
  /** A ready auth client (tests: an `OAuth2Client` with an access token); wins over `credentials`. */
  authClient?: AuthClient;
  /** Service-account JSON; Application Default Credentials when neither this nor `authClient` is set. */
  credentials?: GoogleAuthOptions['credentials'];
  /** Gemini model used when a request names none, e.g. `gemini-2.5-flash`. */
  defaultModel: string;
  /** Text embedding model: `text-embedding-005`, `text-embedding-004` or `textembedding-gecko@003` (768 dims). */
  embeddingModel: string;
  /** Texts per embedding call. 5 is the lowest limit among the gecko models; `text-embedding-005` takes 250. */
  embeddingBatchSize?: number;
  /** Model for {@link VertexProvider.completeCode}; default `code-gecko@002` (GitLab's, now retired by Google). */
  codeModel?: string;
  /** Registry id reported in errors; `vertex` by default. */
  id?: string;
}

export type VertexProvider = LlmProvider &
  CodeCompletionProvider & {
    embed(texts: string[], options?: LlmCallOptions): Promise<number[][]>;
  };

/** An {@link LlmProvider} over Gemini on Vertex AI via `@google/genai` in Vertex mode, plus embeddings and code-gecko. */
export function createVertexProvider(options: VertexProviderOptions): VertexProvider {
  const id = options.id ?? 'vertex';
  const apiVersion = options.apiVersion ?? 'v1';
  const host =
    options.apiEndpoint ??
    (options.location === 'global' ? 'aiplatform.googleapis.com' : `${options.location}-aiplatform.googleapis.com`);
  // An endpoint given with a scheme (`http://127.0.0.1:8085`) is taken as a full base URL rather than mangled.
  const baseUrl = (options.baseUrl ?? (host.includes('://') ? host : `https://${host}`)).replace(/\/+$/, '');
  const embeddingBatchSize = options.embeddingBatchSize ?? 5;
  const auth = createVertexAuth({
    provider: id,
    project: options.project,
    ...(options.authClient ? { authClient: options.authClient } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });

  let sdk: Promise<GoogleGenAI> | undefined;
  async function client(): Promise<GoogleGenAI> {
    // The SDK client is built on first use, sharing our already-authorised client, so constructing a provider
    // never touches the network or the metadata server.
    const authClient = await auth.authorizedClient();
    sdk ??= Promise.resolve(
      new GoogleGenAI({
        vertexai: true,
        project: options.project,
        location: options.location,
        apiVersion,
        googleAuthOptions: { authClient },
        httpOptions: { baseUrl, apiVersion },
      }),
    );
    return sdk;
  }

  function contentsOf(request: LlmRequest): Content[] {
    return request.messages.map((message) => ({
      role: message.role === 'assistant' ? 'model' : 'user',
      parts: [{ text: message.content }],
    }));
  }

  function configOf(request: LlmRequest, signal: AbortSignal | undefined): GenerateContentConfig {
    return {
      ...(request.system === undefined ? {} : { systemInstruction: request.system }),
      ...(request.maxTokens === undefined ? {} : { maxOutputTokens: request.maxTokens }),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.stopSequences?.length ? { stopSequences: request.stopSequences } : {}),
      ...(signal ? { abortSignal: signal } : {}),
    };
  }

  function textOf(response: GenerateContentResponse): string {
    const parts = response.candidates?.[0]?.content?.parts ?? [];
    return parts.map((part) => (part.thought || typeof part.text !== 'string' ? '' : part.text)).join('');
  }

  function throwIfPromptBlocked(response: GenerateContentResponse): void {
    if (!response.candidates?.length && response.promptFeedback?.blockReason) {
      throw new LlmError({
        code: 'content_blocked',
        provider: id,
        message: `Vertex AI blocked the prompt (${response.promptFeedback.blockReason}).`,
      });
    }
  }

  function usageOf(request: LlmRequest, text: string, response: GenerateContentResponse | undefined): LlmUsage {
    const inputTokens = response?.usageMetadata?.promptTokenCount;
    const outputTokens = response?.usageMetadata?.candidatesTokenCount;
    if (typeof inputTokens === 'number') {
      return { inputTokens, outputTokens: outputTokens ?? 0, estimated: false };
    }
    const prompt = (request.system ?? '') + request.messages.map((message) => message.content).join('');
    return { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(text), estimated: true };
  }

  return {
    id,

    async complete(request: LlmRequest, callOptions: LlmCallOptions = {}): Promise<LlmResult> {
      const { signal } = callOptions;
      const model = request.model ?? options.defaultModel;
      try {
        const ai = await client();
        const response = await ai.models.generateContent({
          model,
          contents: contentsOf(request),
          config: configOf(request, signal),
        });
        throwIfPromptBlocked(response);
        const text = textOf(response);
        return {
          text,
          finishReason: mapVertexFinishReason(response.candidates?.[0]?.finishReason),
          usage: usageOf(request, text, response),
          model: response.modelVersion ?? model,
        };
      } catch (error) {
        throw mapVertexError(error, { provider: id, signal });
      }
    },

    async *stream(request: LlmRequest, callOptions: LlmCallOptions = {}): AsyncIterable<LlmStreamPart> {
      const { signal } = callOptions;
      let model = request.model ?? options.defaultModel;
      let chunks: AsyncIterable<GenerateContentResponse>;
      try {
        const ai = await client();
        chunks = await ai.models.generateContentStream({
          model,
          contents: contentsOf(request),
          config: configOf(request, signal),
        });
      } catch (error) {
        throw mapVertexError(error, { provider: id, signal });
      }
      let finishReason: string | undefined;
      let lastWithUsage: GenerateContentResponse | undefined;
      let text = '';
      try {
        for await (const chunk of chunks) {
          throwIfPromptBlocked(chunk);
          const delta = textOf(chunk);
          if (delta !== '') {
            text += delta;
            yield { type: 'text-delta', text: delta };
          }
          if (chunk.usageMetadata) lastWithUsage = chunk;
          if (chunk.modelVersion) model = chunk.modelVersion;
          finishReason = chunk.candidates?.[0]?.finishReason ?? finishReason;
        }
      } catch (error) {
        throw mapVertexError(error, { provider: id, signal });
      }
      // Every complete Gemini stream ends with a chunk carrying finishReason; without it the answer was cut.
      if (finishReason === undefined) {
        throw signal?.aborted
          ? new LlmError({
              code: 'cancelled',
              provider: id,
              message: 'The Vertex AI stream was cancelled.',
              cause: signal.reason,
            })
          : new LlmError({
              code: 'unavailable',
              provider: id,
              message: 'The Vertex AI stream ended without a finishReason.',
            });
      }
      yield {
        type: 'finish',
        finishReason: mapVertexFinishReason(finishReason),
        usage: usageOf(request, text, lastWithUsage),
        model,
      };
    },

    async embed(texts: string[], callOptions: LlmCallOptions = {}): Promise<number[][]> {
      const { signal } = callOptions;
      const vectors: number[][] = [];
      try {
        const ai = await client();
        for (let start = 0; start < texts.length; start += embeddingBatchSize) {
          const batch = texts.slice(start, start + embeddingBatchSize);
          const response = await ai.models.embedContent({
            model: options.embeddingModel,
            contents: batch,
            config: signal ? { abortSignal: signal } : {},
          });
          const embeddings = response.embeddings ?? [];
          if (embeddings.length !== batch.length || embeddings.some((embedding) => !embedding.values?.length)) {
            throw new LlmError({
              code: 'unavailable',
              provider: id,
              message: `Vertex AI returned ${embeddings.length} embeddings for ${batch.length} texts.`,
            });
          }
          for (const embedding of embeddings) vectors.push(embedding.values ?? []);
        }
      } catch (error) {
        throw mapVertexError(error, { provider: id, signal });
      }
      return vectors;
    },

    completeCode: createVertexCodeCompletion({
      provider: id,
      baseUrl,
      apiVersion,
      project: options.project,
      location: options.location,
      auth,
      defaultModel: options.codeModel ?? 'code-gecko@002',
    }),
  };
}
