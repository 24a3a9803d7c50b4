import { performance } from 'node:perf_hooks';
import { LlmError } from '../../llm/errors.ts';
import { canCompleteCode } from '../../llm/providers/shared/code-completion.ts';
import type { LlmProvider } from '../../llm/types.ts';
import { aiPayloadFields, isExpandedAiLoggingEnabled } from '../../logging/ai-payload-logging.ts';
import { InputModerationError } from '../../moderation/input-moderation-error.ts';
import type { InputModerator } from '../../moderation/input-moderator.ts';
import { jsonDecodeDetail, toFastApiValidationDetails } from '../fastapi-validation-errors.ts';
import { clientGoneSignal, readBody, sendJson } from '../http-io.ts';
import type { RestConfig } from '../rest-config.ts';
import { RestHttpError } from '../rest-http-error.ts';
import type { RestServices, RouteContext, RouteHandler } from '../rest-services.ts';
import { buildCodePrompt } from './build-code-prompt.ts';
import type { CodeSuggestionsAuthenticator } from './code-suggestions-authenticator.ts';
import { type CodeSuggestionsRateLimiter, rateLimitedMessage } from './code-suggestions-rate-limiter.ts';
import { telemetryFrom } from './code-suggestions-telemetry.ts';
import { type CompletionsRequest, type CompletionsResponse, completionsRequestSchema } from './completions-request.ts';
import { detectLanguage } from './detect-language.ts';
import {
  type CodeSuggestion,
  type CodeSuggestionInput,
  chatRequestFor,
  engineOf,
  generateCodeSuggestion,
  providerIdByModelProvider,
} from './generate-code-suggestion.ts';
import { postProcessCompletion } from './post-process-completion.ts';

/** The feature name used for provider routing, moderation policies and cost metrics. */
export const codeSuggestionsFeature = 'code_suggestions';
/** GitLab's rate-limit key name, also the `endpoint` label of the rate-limited counter. */
const rateLimitEndpoint = 'code_suggestions_api_endpoint';

export interface CompletionsRouteDependencies {
  services: RestServices;
  restConfig: RestConfig;
  authenticator: CodeSuggestionsAuthenticator;
  rateLimiter: CodeSuggestionsRateLimiter;
  moderator: InputModerator;
}

function parseBody(raw: Buffer): CompletionsRequest {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new RestHttpError(422, { detail: [jsonDecodeDetail(error)] });
  }
  const parsed = completionsRequestSchema.safeParse(json);
  if (!parsed.success) throw new RestHttpError(422, { detail: toFastApiValidationDetails(parsed.error.issues, json) });
  return parsed.data;
}

/** Maps a provider failure to the gateway's answer; content refusals become "no suggestion", as GitLab did. */
function httpErrorFor(error: LlmError): RestHttpError | 'no-suggestion' {
  switch (error.code) {
    case 'bad_request':
    case 'content_blocked':
      // GitLab swallowed code-gecko's InvalidArgument: the editor shows nothing rather than an error.
      return 'no-suggestion';
    case 'timeout':
      return new RestHttpError(504, { detail: 'The model did not answer in time.' }, { cause: error });
    case 'rate_limited':
    case 'overloaded':
      return new RestHttpError(
        503,
        { detail: 'The model is overloaded. Try again later.' },
        {
          cause: error,
          ...(error.retryAfterMs ? { headers: { 'retry-after': String(Math.ceil(error.retryAfterMs / 1000)) } } : {}),
        },
      );
    default:
      return new RestHttpError(502, { detail: 'The model could not answer.' }, { cause: error });
  }
}

function chooseProvider(services: RestServices, body: CompletionsRequest): { provider: LlmProvider; model?: string } {
  if (body.model_provider) {
    const id = providerIdByModelProvider[body.model_provider];
    const chosen = services.providers.list().find((provider) => provider.id === id);
    // `model_name` only means something for the provider it was written for.
    if (chosen) return { provider: chosen, ...(body.model_name ? { model: body.model_name } : {}) };
  }
  return { provider: services.providers.forFeature(codeSuggestionsFeature) };
}

/** `POST /v2/completions` (alias `/v2/code/completions`): GitLab AI gateway's code-completion contract. */
export function createCompletionsRoute(dependencies: CompletionsRouteDependencies): RouteHandler {
  const { services, restConfig } = dependencies;

  return async function handleCompletions(context: RouteContext): Promise<void> {
    const { request, response, logFields } = context;
    const caller = await dependencies.authenticator.authenticate(request);
    logFields.auth_kind = caller.kind;
    logFields.gitlab_realm = caller.realm;
    if (caller.userId !== undefined) logFields.user_id = caller.userId;

    const decision = await dependencies.rateLimiter.consume(caller.rateLimitKey);
    if (!decision.allowed) {
      services.metrics.countRateLimited(rateLimitEndpoint);
      // GitLab's internal event of the same name.
      logFields.event = 'code_suggestions_rate_limit_exceeded';
      throw new RestHttpError(
        429,
        { error: rateLimitedMessage },
        { headers: { 'retry-after': String(decision.retryAfterSeconds) } },
      );
    }

    const body = parseBody(
      await readBody(request, restConfig.REST_MAX_BODY_BYTES, { detail: 'Request body is too large.' }),
    );
    for (const telemetry of telemetryFrom(request, body)) services.metrics.countCodeSuggestionsTelemetry(telemetry);

    const { current_file: file } = body;
    const { language, extension } = detectLanguage(file.file_name, file.language_identifier);
    services.metrics.countPromptLanguage(language?.id ?? '', extension);
    logFields.lang = language?.id ?? '';
    logFields.prompt_length = file.content_above_cursor.length;
    logFields.suffix_length = file.content_below_cursor.length;
    logFields.context_items = body.context.length;
    if (body.project_id !== undefined && body.project_id !== null) logFields.project_id = body.project_id;

    const expanded = await isExpandedAiLoggingEnabled(services.featureFlags, caller.userId);
    const contextTexts = Object.fromEntries(body.context.map((item, index) => [`context_${index}`, item.content]));
    let moderated: Awaited<ReturnType<InputModerator['moderate']>>;
    try {
      moderated = await dependencies.moderator.moderate(codeSuggestionsFeature, {
        above: file.content_above_cursor,
        below: file.content_below_cursor,
        ...(body.prompt ? { prompt: body.prompt } : {}),
        ...contextTexts,
      });
    } catch (error) {
      if (!InputModerationError.isInstance(error)) throw error;
      logFields.moderation = error.failure;
      logFields.moderation_categories = error.categories;
      throw new RestHttpError(error.failure === 'flagged' ? 400 : 503, { detail: error.message }, { cause: error });
    }
    if (Object.keys(moderated.redactions).length > 0) logFields.redactions = moderated.redactions;
    const texts = moderated.texts as Record<string, string>;

    const prompt = buildCodePrompt({
      prefix: texts.above ?? '',
      suffix: texts.below ?? '',
      fileName: file.file_name,
      language,
      budgetTokens: restConfig.CODE_SUGGESTIONS_PROMPT_BUDGET_TOKENS,
    });
    const { provider, model } = chooseProvider(services, body);
    const input: CodeSuggestionInput = {
      prompt,
      fileName: file.file_name,
      language,
      context: body.context.map((item, index) => ({ ...item, content: texts[`context_${index}`] ?? '' })),
      maxTokens: restConfig.CODE_SUGGESTIONS_MAX_OUTPUT_TOKENS,
      ...(model ? { model } : {}),
      ...(body.prompt_version === 2 && texts.prompt ? { rawPrompt: texts.prompt } : {}),
    };
    const signal = clientGoneSignal(response);
    const promptBytes = Buffer.byteLength(prompt.fullPrefix) + Buffer.byteLength(prompt.suffix);
    Object.assign(
      logFields,
      aiPayloadFields({ content_above_cursor: prompt.fullPrefix, content_below_cursor: prompt.suffix }, { expanded }),
    );

    if (body.stream) {
      await streamSuggestion(context, provider, input, signal, { expanded, promptBytes });
      return;
    }

    const choiceCount = Math.max(1, body.choices_count);
    const inferenceStart = performance.now();
    let suggestions: CodeSuggestion[];
    try {
      suggestions = await Promise.all(
        Array.from({ length: choiceCount }, () => generateCodeSuggestion(provider, input, { signal })),
      );
    } catch (error) {
      if (!LlmError.isInstance(error)) throw error;
      logFields.model_error = error.code;
      logFields.model_provider_id = error.provider;
      const mapped = httpErrorFor(error);
      if (mapped !== 'no-suggestion') throw mapped;
      suggestions = [];
    }
    const inferenceSeconds = (performance.now() - inferenceStart) / 1000;
    const first = suggestions[0];
    const engine = first?.engine ?? engineOf(provider.id);
    const modelName = first?.modelName ?? model ?? '';
    services.metrics.observeCodeSuggestionsInference({ modelEngine: engine, modelName }, inferenceSeconds, promptBytes);
    for (const suggestion of suggestions) {
      const spend = { vendor: engine, model: modelName, unit: 'tokens', featureCategory: codeSuggestionsFeature };
      services.metrics.countTokens({ ...spend, item: `${modelName}/prompt` }, suggestion.usage.inputTokens);
      services.metrics.countTokens({ ...spend, item: `${modelName}/completion` }, suggestion.usage.outputTokens);
    }

    const choiceTexts = [
      ...new Set(suggestions.map((suggestion) => postProcessCompletion(suggestion.text, suggestion.finishReason))),
    ].filter((text) => text.length > 0);
    Object.assign(logFields, {
      model_engine: engine,
      model_name: modelName,
      inference_duration_s: Number(inferenceSeconds.toFixed(4)),
      choices: choiceTexts.length,
      ...aiPayloadFields({ completion: choiceTexts.join('\n') }, { expanded }),
    });
    const answer: CompletionsResponse = {
      id: 'id',
      model: { engine, name: modelName, lang: language?.id ?? '' },
      experiments: [],
      object: 'text_completion',
      created: Math.floor(Date.now() / 1000),
      // GitLab always answered `length` here; clients do not read it.
      choices: choiceTexts.map((text, index) => ({ text, index, finish_reason: 'length' })),
    };
    sendJson(response, 200, answer);
  };

  async function streamSuggestion(
    context: RouteContext,
    provider: LlmProvider,
    input: CodeSuggestionInput,
    signal: AbortSignal,
    options: { expanded: boolean; promptBytes: number },
  ): Promise<void> {
    const { response, logFields } = context;
    const inferenceStart = performance.now();
    let streamed = '';
    let engine = engineOf(provider.id);
    let modelName = input.model ?? '';
    const startStream = () => {
      if (!response.headersSent) {
        // Raw text chunks under `text/event-stream`, without `data:` framing: what GitLab's gateway sends.
        response.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-accel-buffering': 'no',
        });
      }
    };
    try {
      if (canCompleteCode(provider) && input.rawPrompt === undefined) {
        const suggestion = await generateCodeSuggestion(provider, input, { signal });
        engine = suggestion.engine;
        modelName = suggestion.modelName;
        streamed = suggestion.text;
        startStream();
        if (streamed) response.write(streamed);
      } else {
        for await (const part of provider.stream(chatRequestFor(input), { signal })) {
          if (part.type === 'text-delta') {
            if (!streamed) {
              services.metrics.observeFirstChunk(codeSuggestionsFeature, (performance.now() - inferenceStart) / 1000);
            }
            startStream();
            streamed += part.text;
            response.write(part.text);
          } else {
            const colon = part.model.indexOf(':');
            if (colon > 0) {
              engine = engineOf(part.model.slice(0, colon));
              modelName = part.model.slice(colon + 1);
            } else {
              modelName = part.model;
            }
          }
        }
      }
    } catch (error) {
      if (!LlmError.isInstance(error)) throw error;
      logFields.model_error = error.code;
      if (!response.headersSent) {
        const mapped = httpErrorFor(error);
        if (mapped !== 'no-suggestion') throw mapped;
      }
    }
    startStream();
    response.end();
    services.metrics.observeCodeSuggestionsInference(
      { modelEngine: engine, modelName },
      (performance.now() - inferenceStart) / 1000,
      options.promptBytes,
    );
    Object.assign(logFields, {
      model_engine: engine,
      model_name: modelName,
      stream: true,
      ...aiPayloadFields({ completion: streamed }, { expanded: options.expanded }),
    });
  }
}
