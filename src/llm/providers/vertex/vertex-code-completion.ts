import { z } from 'zod';
import { LlmError } from '../../errors.ts';
import { estimateTokens, type LlmCallOptions, type LlmResult } from '../../types.ts';
import type { CodeCompletionRequest } from '../shared/code-completion.ts';
import { parseRetryAfterMs } from '../shared/parse-retry-after.ts';
import { codeForGoogleStatus, mapVertexError, parseGoogleErrorEnvelope, retryDelayMs } from './map-vertex-error.ts';
import type { VertexAuth } from './vertex-auth.ts';

/** code-gecko's `:predict` answer; minimal and nullish so extra or missing fields never break parsing. */
const codeGeckoResponse = z.object({
  predictions: z
    .array(
      z.object({
        content: z.string().nullish(),
        safetyAttributes: z.object({ blocked: z.boolean().nullish() }).loose().nullish(),
      }),
    )
    .min(1),
  metadata: z
    .object({
      tokenMetadata: z
        .object({
          inputTokenCount: z.object({ totalTokens: z.number().nullish() }).nullish(),
          outputTokenCount: z.object({ totalTokens: z.number().nullish() }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

export interface VertexCodeCompletionOptions {
  provider: string;
  /** `https://<location>-aiplatform.googleapis.com` or a stand-in URL, without a trailing slash. */
  baseUrl: string;
  apiVersion: string;
  project: string;
  location: string;
  auth: VertexAuth;
  /** GitLab's code completion model; Google retired `code-gecko@002` in April 2025, so deployments name theirs. */
  defaultModel: string;
}

/**
 * Fill-in-the-middle through the PaLM/Codey `:predict` API (`instances: [{prefix, suffix}]`). `@google/genai`
 * has no call for these models, hence plain fetch with the same token source as the SDK.
 */
export function createVertexCodeCompletion(options: VertexCodeCompletionOptions) {
  const { provider } = options;
  return async function completeCode(
    request: CodeCompletionRequest,
    callOptions: LlmCallOptions = {},
  ): Promise<LlmResult> {
    const { signal } = callOptions;
    const model = request.model ?? options.defaultModel;
    const url = `${options.baseUrl}/${options.apiVersion}/projects/${options.project}/locations/${options.location}/publishers/google/models/${model}:predict`;
    const client = await options.auth.authorizedClient();
    const headers = await client.getRequestHeaders(url);
    headers.set('content-type', 'application/json');
    // GitLab's code_completion defaults: temperature 0.2, 64 output tokens (short inline suggestions).
    const body = {
      instances: [{ prefix: request.prefix, suffix: request.suffix ?? '' }],
      parameters: {
        temperature: request.temperature ?? 0.2,
        maxOutputTokens: request.maxTokens ?? 64,
        ...(request.stopSequences?.length ? { stopSequences: request.stopSequences } : {}),
      },
    };
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
      text = await response.text();
    } catch (error) {
      throw mapVertexError(error, { provider, signal });
    }
    if (!response.ok) {
      const envelope = parseGoogleErrorEnvelope(text);
      throw new LlmError({
        code: codeForGoogleStatus(response.status),
        provider,
        message: `Vertex AI error ${response.status}${envelope?.error.status ? ` ${envelope.error.status}` : ''} from ${model}:predict.`,
        statusCode: response.status,
        retryAfterMs: parseRetryAfterMs(response.headers) ?? retryDelayMs(envelope),
      });
    }
    const parsed = parseJson(text, codeGeckoResponse);
    if (!parsed) {
      throw new LlmError({ code: 'unavailable', provider, message: `Unexpected ${model}:predict response shape.` });
    }
    const prediction = parsed.predictions[0]!;
    if (prediction.safetyAttributes?.blocked) {
      throw new LlmError({ code: 'content_blocked', provider, message: `${model} blocked the completion.` });
    }
    const completion = prediction.content ?? '';
    const inputTokens = parsed.metadata?.tokenMetadata?.inputTokenCount?.totalTokens;
    const outputTokens = parsed.metadata?.tokenMetadata?.outputTokenCount?.totalTokens;
    const usage =
      typeof inputTokens === 'number' && typeof outputTokens === 'number'
        ? { inputTokens, outputTokens, estimated: false }
        : {
            inputTokens: estimateTokens(request.prefix + (request.suffix ?? '')),
            outputTokens: estimateTokens(completion),
            estimated: true,
          };
    // `:predict` reports no finish reason; "stop" is the honest default for a returned suggestion.
    return { text: completion, finishReason: 'stop', usage, model };
  };
}

function parseJson<Schema extends z.ZodType>(text: string, schema: Schema): z.infer<Schema> | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
