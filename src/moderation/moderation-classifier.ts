import { z } from 'zod';

/** A provider moderation call (OpenAI `/v1/moderations` or any service with the same shape). */
export interface ModerationClassifier {
  /** Name used in the user-facing message ("Provided input violates <name>'s Content Policy"). */
  readonly name: string;
  /** Classifies every text; flagged when any one is. Throws when the provider cannot answer. */
  classify(texts: string[], options?: { signal?: AbortSignal }): Promise<{ flagged: boolean; categories: string[] }>;
}

export interface OpenAIModerationClassifierOptions {
  /** API root, e.g. `https://api.openai.com/v1`; `/moderations` is appended. */
  baseURL: string;
  apiKey?: string;
  /** Moderation model; OpenAI's current default when absent. */
  model?: string;
  /** Per call. Moderation sits in front of every request, so it must answer well within the model's own budget. */
  timeoutMs?: number;
  /** Shown to users; `OpenAI` by default (GitLab's message names OpenAI). */
  name?: string;
}

const moderationResponse = z.object({
  results: z.array(
    z.object({
      flagged: z.boolean(),
      categories: z.record(z.string(), z.boolean().nullable()).default({}),
    }),
  ),
});

/**
 * Two seconds: moderation is on the critical path of every request, and OpenAI's endpoint answers in a few
 * hundred milliseconds; beyond that the request fails closed rather than waiting.
 */
const defaultModerationTimeoutMs = 2_000;

/** A classifier over an OpenAI-compatible `POST /moderations` endpoint. */
export function createOpenAIModerationClassifier(options: OpenAIModerationClassifierOptions): ModerationClassifier {
  const url = `${options.baseURL.replace(/\/+$/, '')}/moderations`;
  return {
    name: options.name ?? 'OpenAI',
    async classify(texts, callOptions = {}) {
      const timeout = AbortSignal.timeout(options.timeoutMs ?? defaultModerationTimeoutMs);
      const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, timeout]) : timeout;
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
        },
        body: JSON.stringify({ input: texts, ...(options.model ? { model: options.model } : {}) }),
        signal,
      });
      if (!response.ok) throw new Error(`moderation endpoint answered ${response.status}`);
      const parsed = moderationResponse.parse(await response.json());
      const categories = new Set<string>();
      for (const result of parsed.results) {
        for (const [category, hit] of Object.entries(result.categories)) if (hit) categories.add(category);
      }
      return { flagged: parsed.results.some((result) => result.flagged), categories: [...categories] };
    },
  };
}
