import { z } from 'zod';
import { LlmError } from '../../llm/errors.ts';
import type { LlmMessage, LlmRequest } from '../../llm/types.ts';
import { aiPayloadFields, isExpandedAiLoggingEnabled } from '../../logging/ai-payload-logging.ts';
import { clientGoneSignal, sendJson } from '../http-io.ts';
import type { RestConfig } from '../rest-config.ts';
import { RestHttpError } from '../rest-http-error.ts';
import type { RestServices, RouteContext, RouteHandler } from '../rest-services.ts';
import { vertexChatParams } from './experiment-params.ts';
import { authorizeExperimentation, experimentProvider } from './experimentation-access.ts';
import { readExperimentParams } from './read-experiment-params.ts';

/** GitLab's global flag of this experiment (the endpoint was first named `tofa`). */
export const vertexExperimentationFlag = 'tofa_experimentation_main_flag';
const feature = 'vertex_experimentation';

const palmMessages = z.array(z.object({ author: z.string(), content: z.string() }));
const palmExamples = z.array(
  z.object({ input: z.object({ content: z.string() }), output: z.object({ content: z.string() }) }),
);

/** Authors PaLM used for the model's turns; any other author is the user. */
const modelAuthors = new Set(['bot', 'model', 'assistant', '1']);

function parseJsonParam<T>(text: string, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(text));
  } catch (error) {
    // GitLab's message for `messages` / `examples` that are not the expected JSON.
    const reason = error instanceof SyntaxError ? error.message : 'unexpected structure';
    throw new RestHttpError(400, { message: `Failed to parse JSON input: ${reason}` });
  }
}

/**
 * `POST /api/v4/ai/experimentation/vertex/chat` (first `tofa/chat`): GitLab proxied a `codechat-bison` predict
 * call. PaLM models are retired, so the same params go to our Vertex provider (Gemini); the answer keeps the
 * `:predict` shape (`predictions[0].candidates[0].content`) that GitLab's callers read.
 */
export function createVertexChatRoute(services: RestServices, restConfig: RestConfig): RouteHandler {
  return async function handleVertexChat(context: RouteContext): Promise<void> {
    const { response, logFields } = context;
    const authentication = await authorizeExperimentation(services, context.request, vertexExperimentationFlag);
    logFields.user_id = authentication.user.id;
    const params = await readExperimentParams(context, vertexChatParams, restConfig.REST_MAX_BODY_BYTES);
    const turns = params.messages
      ? parseJsonParam(params.messages, palmMessages)
      : [{ author: 'user', content: params.content ?? '' }];
    const examples = params.examples ? parseJsonParam(params.examples, palmExamples) : [];
    const provider = experimentProvider(services, 'vertex', feature);
    if (!provider) throw new RestHttpError(503, { message: 'Vertex AI is not configured.' });
    services.metrics.countAiAction(feature);

    const exampleText = examples
      .map((example) => `Example input: ${example.input.content}\nExample output: ${example.output.content}`)
      .join('\n\n');
    const system = [params.context, exampleText].filter(Boolean).join('\n\n');
    const messages: LlmMessage[] = turns.map((turn) => ({
      role: modelAuthors.has(turn.author.toLowerCase()) ? 'assistant' : 'user',
      content: turn.content,
    }));
    const request: LlmRequest = {
      ...(system ? { system } : {}),
      messages,
      maxTokens: params.max_output_tokens,
      temperature: params.temperature,
      providerOptions: { vertex: { topK: params.top_k, topP: params.top_p } },
    };
    const expanded = await isExpandedAiLoggingEnabled(services.featureFlags, authentication.user.id);
    Object.assign(
      logFields,
      aiPayloadFields({ content: messages.map((message) => message.content).join('\n') }, { expanded }),
    );
    try {
      const result = await provider.complete(request, { signal: clientGoneSignal(response) });
      Object.assign(logFields, aiPayloadFields({ answer: result.text }, { expanded }));
      sendJson(response, 200, {
        predictions: [
          {
            candidates: [{ author: 'bot', content: result.text }],
            safetyAttributes: [{ blocked: false, categories: [], scores: [] }],
            citationMetadata: [{ citations: [] }],
          },
        ],
        metadata: {
          tokenMetadata: {
            inputTokenCount: { totalTokens: result.usage.inputTokens },
            outputTokenCount: { totalTokens: result.usage.outputTokens },
          },
        },
      });
    } catch (error) {
      if (!LlmError.isInstance(error)) throw error;
      logFields.model_error = error.code;
      const status = error.statusCode ?? (error.code === 'timeout' ? 504 : 502);
      sendJson(response, status, { error: { code: status, message: error.message, status: error.code.toUpperCase() } });
    }
  };
}
