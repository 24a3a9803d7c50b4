import { z } from 'zod';

/*
 * The AI gateway's `/v2/completions` body (ai_gateway/api/v2/code/typing.py, pydantic): limits are GitLab's.
 * Unknown fields are ignored, as pydantic does (the GitLab Language Server sends `intent`, `generation_type`…).
 */

/** Characters of code on either side of the cursor: GitLab's `max_length=100000`. */
const maxContentCharacters = 100_000;
/** File names and project paths: GitLab's `max_length=255`, measured after stripping whitespace. */
const maxNameCharacters = 255;
/** Model names and telemetry labels: GitLab's `max_length=50`. */
const maxModelNameCharacters = 50;
/** Telemetry items from previous requests: GitLab's `max_length=10`. */
const maxTelemetryItems = 10;
/** Context items (open files, snippets): GitLab's `max_length=100`. */
const maxContextItems = 100;
/**
 * Choices: the Language Server asks for 1 or 4 ("4 is the maximum supported by Google Vertex"); 0 is the
 * gateway's default and means one.
 */
const maxChoices = 4;

export const currentFileSchema = z.object({
  file_name: z.string().trim().max(maxNameCharacters),
  /** The editor's language id (`typescriptreact`…), added by the gateway in late 2023. */
  language_identifier: z.string().trim().max(maxNameCharacters).nullish(),
  content_above_cursor: z.string().max(maxContentCharacters),
  content_below_cursor: z.string().max(maxContentCharacters),
});

const experimentSchema = z.object({ name: z.string(), variant: z.int() });

const telemetrySchema = z.object({
  model_engine: z.string().max(maxModelNameCharacters).nullish(),
  model_name: z.string().max(maxModelNameCharacters).nullish(),
  lang: z.string().max(maxModelNameCharacters).nullish(),
  experiments: z.array(experimentSchema).nullish(),
  // Counters feed Prometheus counters, which only go up.
  requests: z.int().min(0),
  accepts: z.int().min(0),
  errors: z.int().min(0),
});

const contextItemSchema = z.object({
  type: z.enum(['file', 'snippet']),
  name: z.string().max(maxNameCharacters),
  content: z.string().max(maxContentCharacters),
});

export const completionsRequestSchema = z.object({
  /** 1: build the prompt here; 2: the caller's raw `prompt` (honoured on the chat path only). */
  prompt_version: z.literal([1, 2]).default(1),
  prompt: z.string().max(maxContentCharacters).nullish(),
  project_path: z.string().trim().max(maxNameCharacters).nullish(),
  project_id: z.int().nullish(),
  current_file: currentFileSchema,
  model_provider: z.enum(['vertex-ai', 'anthropic', 'litellm']).nullish(),
  model_name: z.string().max(maxModelNameCharacters).nullish(),
  telemetry: z.array(telemetrySchema).max(maxTelemetryItems).default([]),
  stream: z.boolean().default(false),
  choices_count: z.int().min(0).max(maxChoices).default(0),
  context: z.array(contextItemSchema).max(maxContextItems).default([]),
});

export type CompletionsRequest = z.infer<typeof completionsRequestSchema>;
export type CompletionsContextItem = z.infer<typeof contextItemSchema>;

/** The gateway's response; `choices` is empty when the model suggested nothing. */
export interface CompletionsResponse {
  id: string;
  model: { engine: string; name: string; lang: string };
  experiments: { name: string; variant: number }[];
  object: 'text_completion';
  /** Unix seconds. */
  created: number;
  choices: { text: string; index: number; finish_reason: string }[];
}
