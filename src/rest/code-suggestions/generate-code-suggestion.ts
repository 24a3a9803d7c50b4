import { canCompleteCode } from '../../llm/providers/shared/code-completion.ts';
import type { LlmCallOptions, LlmFinishReason, LlmProvider, LlmRequest, LlmUsage } from '../../llm/types.ts';
import type { CodePrompt } from './build-code-prompt.ts';
import type { CompletionsContextItem } from './completions-request.ts';
import type { Language } from './detect-language.ts';

/** The engine names GitLab reports in `model.engine`, per registry provider id. */
const engineByProviderId: Record<string, string> = {
  anthropic: 'anthropic',
  vertex: 'vertex-ai',
  self_hosted: 'litellm',
  fake: 'fake',
};

/** The registry provider id for a request's `model_provider`. */
export const providerIdByModelProvider: Record<string, string> = {
  anthropic: 'anthropic',
  'vertex-ai': 'vertex',
  litellm: 'self_hosted',
};

export interface CodeSuggestion {
  text: string;
  finishReason: LlmFinishReason;
  usage: LlmUsage;
  /** `model.engine` (`vertex-ai`, `anthropic`, `litellm`, `fake`). */
  engine: string;
  /** `model.name`, without the fallback chain's `<provider>:` prefix. */
  modelName: string;
  /** Registry id of the provider that answered. */
  providerId: string;
}

export interface CodeSuggestionInput {
  prompt: CodePrompt;
  fileName: string;
  language: Language | undefined;
  context: CompletionsContextItem[];
  /** Tokens to generate. */
  maxTokens: number;
  /** Model id inside the provider (the request's `model_name`, only when it also chose the provider). */
  model?: string;
  /** prompt_version 2: the caller's own prompt, sent as the user turn on the chat path. */
  rawPrompt?: string;
}

/** Splits the fallback chain's `<providerId>:<model>` into its parts. */
function splitModel(model: string, fallbackProviderId: string): { providerId: string; modelName: string } {
  const colon = model.indexOf(':');
  if (colon > 0 && model.slice(0, colon) in engineByProviderId) {
    return { providerId: model.slice(0, colon), modelName: model.slice(colon + 1) };
  }
  return { providerId: fallbackProviderId, modelName: model };
}

/** Temperature of GitLab's code models (Vertex and Anthropic code defaults): low, for predictable code. */
const codeTemperature = 0.2;

const chatSystemPrompt =
  'You are a code completion engine. Write only the code that belongs at <cursor/>: no explanation, no Markdown, ' +
  'no repetition of the code around the cursor. Write nothing when nothing belongs there.';

/** The chat-style request for providers without fill-in-the-middle. */
export function chatRequestFor(input: CodeSuggestionInput): LlmRequest {
  const related = input.context
    .map((item) => `<${item.type} name="${item.name.replace(/"/g, "'")}">\n${item.content}\n</${item.type}>`)
    .join('\n');
  const language = input.language ? ` (${input.language.name})` : '';
  const content =
    input.rawPrompt ??
    [
      related ? `Related code:\n${related}\n` : '',
      `File: ${input.fileName}${language}`,
      `<code>\n${input.prompt.restoredImports}${input.prompt.prefix}<cursor/>${input.prompt.suffix}\n</code>`,
    ]
      .filter(Boolean)
      .join('\n');
  return {
    ...(input.model ? { model: input.model } : {}),
    system: chatSystemPrompt,
    messages: [{ role: 'user', content }],
    maxTokens: input.maxTokens,
    temperature: codeTemperature,
  };
}

/** Asks the provider once: `completeCode` when it has it, else a chat completion. */
export async function generateCodeSuggestion(
  provider: LlmProvider,
  input: CodeSuggestionInput,
  options: LlmCallOptions = {},
): Promise<CodeSuggestion> {
  const result =
    canCompleteCode(provider) && input.rawPrompt === undefined
      ? await provider.completeCode(
          {
            prefix: input.prompt.fullPrefix,
            suffix: input.prompt.suffix,
            maxTokens: input.maxTokens,
            temperature: codeTemperature,
            ...(input.model ? { model: input.model } : {}),
          },
          options,
        )
      : await provider.complete(chatRequestFor(input), options);
  const { providerId, modelName } = splitModel(result.model, provider.id);
  return {
    text: result.text,
    finishReason: result.finishReason,
    usage: result.usage,
    engine: engineByProviderId[providerId] ?? providerId,
    modelName,
    providerId,
  };
}

/** The engine name for a provider id, for metrics and streamed answers. */
export function engineOf(providerId: string): string {
  return engineByProviderId[providerId] ?? providerId;
}
