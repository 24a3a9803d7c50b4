import type { LlmCallOptions, LlmProvider, LlmResult } from '../../types.ts';

/**
 * A fill-in-the-middle request: the model writes what goes between `prefix` and `suffix` (GitLab's
 * code-gecko `code_completion` and the GPU model worker both take exactly these two strings).
 */
export interface CodeCompletionRequest {
  /** The code before the cursor. */
  prefix: string;
  /** The code after the cursor; empty when the cursor is at the end of the file. */
  suffix?: string;
  /** Model id inside the provider; the provider's code model when absent. */
  model?: string;
  /** Tokens to generate; GitLab used 64 for code-gecko. */
  maxTokens?: number;
  temperature?: number;
  stopSequences?: string[];
}

/** A provider that can also complete code between a prefix and a suffix. */
export interface CodeCompletionProvider {
  completeCode(request: CodeCompletionRequest, options?: LlmCallOptions): Promise<LlmResult>;
}

/** Whether the provider completes code between a prefix and a suffix (Vertex code-gecko, self-hosted code models). */
export function canCompleteCode(provider: LlmProvider): provider is LlmProvider & CodeCompletionProvider {
  return typeof (provider as Partial<CodeCompletionProvider>).completeCode === 'function';
}
