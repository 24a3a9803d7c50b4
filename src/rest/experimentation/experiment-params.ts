import { z } from 'zod';

/** Grape's `Integer`/`Float`: JSON numbers, or strings holding one (form-style clients send those). */
export function numeric<Schema extends z.ZodType>(schema: Schema) {
  return z.preprocess(
    (value) =>
      typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)) ? Number(value) : value,
    schema,
  );
}

/** Grape's `Boolean`: JSON booleans or the strings `true`/`false`. */
export const grapeBoolean = z.preprocess(
  (value) => (value === 'true' ? true : value === 'false' ? false : value),
  z.boolean(),
);

/** Anthropic's client default in GitLab: `DEFAULT_MAX_TOKENS = 2048`. */
const anthropicDefaultMaxTokens = 2_048;
/** Anthropic's client default in GitLab: `DEFAULT_TEMPERATURE = 0`. */
const anthropicDefaultTemperature = 0;
/** `-1` is Anthropic's legacy "not set" for `top_k` and `top_p`, GitLab's declared default. */
const unsetSampling = -1;

/** `POST /api/v4/ai/experimentation/anthropic/complete`: GitLab's declared params. */
export const anthropicCompleteParams = z.object({
  prompt: z.string(),
  model: z.string(),
  max_tokens_to_sample: numeric(z.int().min(1)).default(anthropicDefaultMaxTokens),
  stop_sequences: z.array(z.string()).optional(),
  stream: grapeBoolean.default(false),
  temperature: numeric(z.number().min(0).max(1)).default(anthropicDefaultTemperature),
  top_k: numeric(z.number()).default(unsetSampling),
  top_p: numeric(z.number()).default(unsetSampling),
});

export type AnthropicCompleteParams = z.infer<typeof anthropicCompleteParams>;

/** `POST /api/v4/ai/experimentation/vertex/chat`: GitLab's declared params, ranges and defaults. */
export const vertexChatParams = z
  .object({
    content: z.string().optional(),
    messages: z.string().optional(),
    context: z.string().optional(),
    examples: z.string().optional(),
    temperature: numeric(z.number().min(0).max(1)).default(0.5),
    max_output_tokens: numeric(z.int().min(1).max(1_024)).default(256),
    top_k: numeric(z.int().min(1).max(40)).default(40),
    top_p: numeric(z.number().min(0).max(1)).default(0.95),
  })
  .superRefine((params, context) => {
    // Grape's `exactly_one_of :content, :messages`, with its two messages.
    const given = [params.content, params.messages].filter((value) => value !== undefined).length;
    if (given === 0) {
      context.addIssue({
        code: 'custom',
        message: 'content, messages are missing, exactly one parameter must be provided',
      });
    } else if (given > 1) {
      context.addIssue({ code: 'custom', message: 'content, messages are mutually exclusive' });
    }
  });

export type VertexChatParams = z.infer<typeof vertexChatParams>;
