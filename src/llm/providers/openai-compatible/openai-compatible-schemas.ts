import { z } from 'zod';

/**
 * Response shapes of the OpenAI-compatible API as vLLM, TGI, Ollama and llama.cpp serve it. Minimal and
 * `.nullish()` throughout: servers disagree on optional fields, and we only read these.
 */
const usage = z.object({ prompt_tokens: z.number().nullish(), completion_tokens: z.number().nullish() }).nullish();

/** vLLM adds `stop_reason`: the matched stop string (or token id) when a stop sequence ended the answer. */
const stopReason = z.union([z.string(), z.number()]).nullish();

export const chatCompletionResponse = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullish() }),
        finish_reason: z.string().nullish(),
        stop_reason: stopReason,
      }),
    )
    .min(1),
  usage,
});

export const chatCompletionChunk = z.object({
  model: z.string().nullish(),
  choices: z
    .array(
      z.object({
        delta: z.object({ content: z.string().nullish() }).nullish(),
        finish_reason: z.string().nullish(),
        stop_reason: stopReason,
      }),
    )
    .nullish(),
  usage,
});

export const completionResponse = z.object({
  model: z.string().nullish(),
  choices: z
    .array(z.object({ text: z.string().nullish(), finish_reason: z.string().nullish(), stop_reason: stopReason }))
    .min(1),
  usage,
});

export const embeddingResponse = z.object({
  data: z.array(z.object({ index: z.number(), embedding: z.array(z.number()) })),
});

/** `{"error":{…}}` (OpenAI, FauxPilot, most servers) or vLLM's flat `{"object":"error",…}`. */
export const errorBody = z.union([
  z.object({
    error: z.object({
      message: z.string().nullish(),
      type: z.string().nullish(),
      code: z.union([z.string(), z.number()]).nullish(),
    }),
  }),
  z.object({
    object: z.literal('error'),
    message: z.string().nullish(),
    type: z.string().nullish(),
    code: z.union([z.string(), z.number()]).nullish(),
  }),
]);

export type ErrorBody = z.infer<typeof errorBody>;

/** Parses JSON text and validates it; undefined when either step fails (never a bare `JSON.parse` result). */
export function parseJsonWith<Schema extends z.ZodType>(text: string, schema: Schema): z.infer<Schema> | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
