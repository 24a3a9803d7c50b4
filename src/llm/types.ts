/** One turn of a conversation sent to a model. */
export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

/** What an action asks of a model; vendor-specific knobs go in `providerOptions`. */
export interface LlmRequest {
  /** Model id inside the provider (e.g. `claude-sonnet-4-5`); the provider's default when absent. */
  model?: string;
  /** System prompt, kept apart from the turns because every vendor treats it apart. */
  system?: string;
  messages: LlmMessage[];
  maxTokens?: number;
  temperature?: number;
  stopSequences?: string[];
  /**
   * GitLab feature flags enabled for this request (the AI gateway's `x-gitlab-enabled-feature-flags`);
   * providers that front a GitLab-aware gateway send them, others ignore them.
   */
  enabledFeatureFlags?: readonly string[];
  /** Vendor-only options, keyed by provider id; providers ignore other providers' keys. */
  providerOptions?: Record<string, Record<string, unknown>>;
}

/** Token counts; `estimated` is true when the provider gave none and we counted characters / 4. */
export interface LlmUsage {
  inputTokens: number;
  outputTokens: number;
  estimated: boolean;
}

export type LlmFinishReason = 'stop' | 'length' | 'stop-sequence' | 'content-filter' | 'error' | 'other';

/** The parts of a streamed answer: any number of text deltas, then exactly one `finish`. */
export type LlmStreamPart =
  | { type: 'text-delta'; text: string }
  | { type: 'finish'; finishReason: LlmFinishReason; usage: LlmUsage; model: string };

/** A complete, non-streamed answer. */
export interface LlmResult {
  text: string;
  finishReason: LlmFinishReason;
  usage: LlmUsage;
  model: string;
}

export interface LlmCallOptions {
  /** Aborting cancels the provider's HTTP request, not just our wait for it. */
  signal?: AbortSignal;
}

/** The one interface every provider implements; a provider is one folder under `src/llm/providers`. */
export interface LlmProvider {
  /** Registry id: `anthropic`, `vertex`, `self_hosted`, `fake`. */
  readonly id: string;
  complete(request: LlmRequest, options?: LlmCallOptions): Promise<LlmResult>;
  stream(request: LlmRequest, options?: LlmCallOptions): AsyncIterable<LlmStreamPart>;
  /** Embeds texts into vectors; absent on providers without an embedding model. */
  embed?(texts: string[], options?: LlmCallOptions): Promise<number[][]>;
}

/** GitLab's estimate when a provider reports no usage: four characters per token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
