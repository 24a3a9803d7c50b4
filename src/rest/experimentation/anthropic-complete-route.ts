import { randomUUID } from 'node:crypto';
import { LlmError, type LlmErrorCode } from '../../llm/errors.ts';
import type { LlmFinishReason, LlmRequest } from '../../llm/types.ts';
import { aiPayloadFields, isExpandedAiLoggingEnabled } from '../../logging/ai-payload-logging.ts';
import { clientGoneSignal, sendJson } from '../http-io.ts';
import type { RestConfig } from '../rest-config.ts';
import { RestHttpError } from '../rest-http-error.ts';
import type { RestServices, RouteContext, RouteHandler } from '../rest-services.ts';
import { anthropicCompleteParams } from './experiment-params.ts';
import { authorizeExperimentation, experimentProvider } from './experimentation-access.ts';
import { legacyPromptToMessages } from './legacy-anthropic-prompt.ts';
import { readExperimentParams } from './read-experiment-params.ts';

/** GitLab's global flag of this experiment. */
export const anthropicExperimentationFlag = 'anthropic_experimentation';
const feature = 'anthropic_experimentation';

/** Anthropic's error `type` per failure, so SDK clients map our errors to the classes they know. */
const anthropicErrorType: Record<LlmErrorCode, string> = {
  rate_limited: 'rate_limit_error',
  overloaded: 'overloaded_error',
  timeout: 'timeout_error',
  bad_request: 'invalid_request_error',
  auth: 'authentication_error',
  unavailable: 'api_error',
  content_blocked: 'invalid_request_error',
  cancelled: 'api_error',
};

const statusByCode: Record<LlmErrorCode, number> = {
  rate_limited: 429,
  overloaded: 529,
  timeout: 504,
  bad_request: 400,
  auth: 502, // our key is wrong, not the caller's: a gateway error
  unavailable: 502,
  content_blocked: 400,
  cancelled: 499,
};

function stopReasonOf(finishReason: LlmFinishReason): string {
  return finishReason === 'length' ? 'max_tokens' : 'stop_sequence';
}

function errorBody(error: LlmError) {
  return { type: 'error', error: { type: anthropicErrorType[error.code], message: error.message } };
}

function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/**
 * `POST /api/v4/ai/experimentation/anthropic/complete`: GitLab proxied the declared params to Anthropic's
 * legacy `/v1/complete`. That endpoint is gone from SDK 1.x and current models, so the prompt is converted to
 * Messages and sent through our Anthropic provider; the answer keeps the Text Completions shape (a JSON
 * `completion`, or `event: completion` frames when streaming) so GitLab-era clients still work.
 */
export function createAnthropicCompleteRoute(services: RestServices, restConfig: RestConfig): RouteHandler {
  return async function handleAnthropicComplete(context: RouteContext): Promise<void> {
    const { response, logFields } = context;
    const authentication = await authorizeExperimentation(services, context.request, anthropicExperimentationFlag);
    logFields.user_id = authentication.user.id;
    const params = await readExperimentParams(context, anthropicCompleteParams, restConfig.REST_MAX_BODY_BYTES);
    const provider = experimentProvider(services, 'anthropic', feature);
    if (!provider) throw new RestHttpError(503, { message: 'Anthropic is not configured.' });
    services.metrics.countAiAction(feature);

    const { system, messages } = legacyPromptToMessages(params.prompt);
    const request: LlmRequest = {
      model: params.model,
      ...(system ? { system } : {}),
      messages,
      maxTokens: params.max_tokens_to_sample,
      temperature: params.temperature,
      ...(params.stop_sequences?.length ? { stopSequences: params.stop_sequences } : {}),
      // The Messages API of SDK 1.x no longer types top_k/top_p; providers that understand them read them here.
      providerOptions: {
        anthropic: {
          ...(params.top_k >= 0 ? { top_k: params.top_k } : {}),
          ...(params.top_p >= 0 ? { top_p: params.top_p } : {}),
        },
      },
    };
    const expanded = await isExpandedAiLoggingEnabled(services.featureFlags, authentication.user.id);
    Object.assign(
      logFields,
      { model: params.model, stream: params.stream },
      aiPayloadFields({ prompt: params.prompt }, { expanded }),
    );
    const id = `compl_${randomUUID().replace(/-/g, '')}`;
    const signal = clientGoneSignal(response);

    if (!params.stream) {
      try {
        const result = await provider.complete(request, { signal });
        Object.assign(logFields, aiPayloadFields({ completion: result.text }, { expanded }));
        sendJson(response, 200, {
          type: 'completion',
          id,
          completion: result.text,
          stop_reason: stopReasonOf(result.finishReason),
          stop: null,
          model: params.model,
          log_id: id,
        });
      } catch (error) {
        if (!LlmError.isInstance(error)) throw error;
        logFields.model_error = error.code;
        sendJson(response, error.statusCode ?? statusByCode[error.code], errorBody(error));
      }
      return;
    }

    let completion = '';
    const begin = () => {
      if (response.headersSent) return;
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        'request-id': id,
      });
    };
    try {
      for await (const part of provider.stream(request, { signal })) {
        begin();
        if (part.type === 'text-delta') {
          completion += part.text;
          response.write(
            sseFrame('completion', {
              type: 'completion',
              id,
              completion: part.text,
              stop_reason: null,
              model: params.model,
            }),
          );
        } else {
          response.write(
            sseFrame('completion', {
              type: 'completion',
              id,
              completion: '',
              stop_reason: stopReasonOf(part.finishReason),
              model: params.model,
            }),
          );
        }
      }
      begin();
    } catch (error) {
      if (!LlmError.isInstance(error)) throw error;
      logFields.model_error = error.code;
      if (!response.headersSent) {
        sendJson(response, error.statusCode ?? statusByCode[error.code], errorBody(error));
        return;
      }
      // The status is already 200: Anthropic signals a broken stream with an `error` event, and so do we.
      response.write(sseFrame('error', errorBody(error)));
    }
    Object.assign(logFields, aiPayloadFields({ completion }, { expanded }));
    response.end();
  };
}
