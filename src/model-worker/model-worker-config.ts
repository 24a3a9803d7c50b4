import { z } from 'zod';

/** Every variable this reads; exported so the deployment files are checked against it (test/unit/deployment-files.test.ts). */
export const environmentSchema = z.object({
  /**
   * Jobs computed at once: the model server's GPU slots (vLLM `--max-num-seqs`, TGI `--max-concurrent-requests`,
   * Ollama `OLLAMA_NUM_PARALLEL`). 1 by default, the only value safe on every server; 256 is vLLM's own default
   * ceiling, past which a single GPU gains nothing.
   */
  MODEL_WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(1),
  /** The OpenAI-compatible server beside this worker, e.g. `http://127.0.0.1:8000/v1`. */
  MODEL_SERVER_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  /** The served model name; also names the queue, so it must equal the API side's `SELF_HOSTED_MODEL_NAME`. */
  MODEL_NAME: z.string().min(1),
  /** Sent as `Authorization: Bearer` to the model server (vLLM `--api-key`); optional. */
  MODEL_SERVER_API_KEY: z.string().min(1).optional(),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
    .default('redis://127.0.0.1:6379'),
  /** Must equal the API side's `REDIS_KEY_PREFIX`: queues, streams and channels live under it. */
  REDIS_KEY_PREFIX: z.string().default(''),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** On SIGTERM, how long running jobs may finish before they are cancelled; 10 s like the AI worker's default. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
});

export type ModelWorkerConfig = z.infer<typeof environmentSchema>;

/** A bad or missing variable; the message is one line naming it. */
export class ModelWorkerConfigError extends Error {
  override name = 'ModelWorkerConfigError';
}

/** Reads the model worker's environment; empty strings count as unset, as in `src/config.ts`. */
export function loadModelWorkerConfig(environment: NodeJS.ProcessEnv = process.env): ModelWorkerConfig {
  const present = Object.fromEntries(
    Object.entries(environment).filter(([key, value]) => key in environmentSchema.shape && value !== ''),
  );
  const parsed = environmentSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  const value = present[variable];
  throw new ModelWorkerConfigError(
    `Invalid environment variable ${variable}${value === undefined ? ' (missing)' : `=${JSON.stringify(value)}`}: ${issue?.message ?? 'invalid'}`,
  );
}
