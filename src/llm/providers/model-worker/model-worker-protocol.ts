import { createHash } from 'node:crypto';
import { z } from 'zod';

/*
 * The contract between the API/worker side (`createModelWorkerProvider`) and the GPU model worker
 * (`src/model-worker`). Both sides import it, so key names, queue names and JSON shapes cannot drift.
 *
 * Why a Redis stream per job for the tokens (and not pub/sub): a stream is stored, so entries written before
 * the reader issued its first XREAD (or while its connection was reconnecting) are still read, from id `0`;
 * and stream ids are strictly increasing, so the reader sees tokens in the order the worker wrote them and can
 * resume exactly after the last id it handled. Pub/sub delivers only to subscribers connected at that instant,
 * so a token published in the gap is lost for good.
 */

/** BullMQ forbids `:` in queue names; Ollama model names contain it (`codellama:7b`), so the model is URI-encoded. */
export function modelQueueName(model: string): string {
  return `model_inference.${encodeURIComponent(model)}`;
}

/** The Redis stream one job's parts are written to; the caller deletes it once read. */
export function jobStreamKey(keyPrefix: string, jobId: string): string {
  return `${keyPrefix}model-worker:job:${jobId}`;
}

/** Set (with a TTL) when a job is cancelled, so a worker that picks it up later drops it without computing. */
export function cancelledKey(keyPrefix: string, jobId: string): string {
  return `${keyPrefix}model-worker:cancelled:${jobId}`;
}

/** Pub/sub channel telling the workers of one model to abort a running job at once (the message is the job id). */
export function cancelChannel(keyPrefix: string, model: string): string {
  return `${keyPrefix}model-worker:cancel:${modelQueueName(model)}`;
}

/**
 * The newest code-completion job of one user in one file. A hash of the pair, not the pair itself: file names
 * are user data and have no place in key names an operator lists.
 */
export function latestCompletionKey(keyPrefix: string, model: string, userId: string, fileName: string): string {
  const digest = createHash('sha256').update(`${userId}\u0000${fileName}`).digest('hex').slice(0, 32);
  return `${keyPrefix}model-worker:latest:${modelQueueName(model)}:${digest}`;
}

/**
 * How long job streams, cancel markers and latest-completion markers live in Redis if nobody deletes them
 * (a caller that crashed): ten minutes is longer than any answer a GPU streams, short enough not to pile up.
 */
export const protocolKeyTtlMs = 600_000;

/** Why a job was cancelled; `superseded` means a newer completion for the same user and file replaced it. */
export const cancelReason = z.enum(['caller', 'superseded', 'expired', 'shutdown']);
export type CancelReason = z.infer<typeof cancelReason>;

const message = z.object({ role: z.enum(['user', 'assistant']), content: z.string() });

/** The chat request as the job carries it (an `LlmRequest` without `providerOptions`, which may hold functions). */
export const chatRequestSchema = z.object({
  model: z.string().optional(),
  system: z.string().optional(),
  messages: z.array(message),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().optional(),
  stopSequences: z.array(z.string()).optional(),
});

export const codeRequestSchema = z.object({
  prefix: z.string(),
  suffix: z.string().optional(),
  model: z.string().optional(),
  maxTokens: z.number().int().positive().optional(),
  temperature: z.number().optional(),
  stopSequences: z.array(z.string()).optional(),
});

/** One job on a model's queue. */
export const modelJobSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('chat'),
    request: chatRequestSchema,
    /** Epoch milliseconds after which nobody waits for the answer any more: the worker drops the job. */
    expiresAt: z.number(),
  }),
  z.object({
    kind: z.literal('code'),
    request: codeRequestSchema,
    /** With `fileName`, identifies the request a newer one supersedes. */
    userId: z.string().optional(),
    fileName: z.string().optional(),
    expiresAt: z.number(),
  }),
]);
export type ModelJob = z.infer<typeof modelJobSchema>;

const finishReason = z.enum(['stop', 'length', 'stop-sequence', 'content-filter', 'error', 'other']);
const errorCode = z.enum([
  'rate_limited',
  'overloaded',
  'timeout',
  'bad_request',
  'auth',
  'unavailable',
  'content_blocked',
  'cancelled',
]);

/** One entry of a job stream, stored as JSON in the entry's `part` field. */
export const jobPartSchema = z.discriminatedUnion('type', [
  /** A worker took the job; until this arrives the caller is waiting for a worker, not for the model. */
  z.object({ type: z.literal('started'), worker: z.string() }),
  z.object({ type: z.literal('text-delta'), text: z.string() }),
  z.object({
    type: z.literal('finish'),
    finishReason,
    usage: z.object({ inputTokens: z.number(), outputTokens: z.number(), estimated: z.boolean() }),
    model: z.string(),
  }),
  z.object({
    type: z.literal('error'),
    code: errorCode,
    message: z.string(),
    statusCode: z.number().optional(),
    retryAfterMs: z.number().optional(),
    cancelReason: cancelReason.optional(),
  }),
]);
export type JobPart = z.infer<typeof jobPartSchema>;

/** The field name of the JSON in every stream entry. */
export const partField = 'part';

/** What the cancel channel carries. */
export const cancelMessageSchema = z.object({ jobId: z.string().min(1), reason: cancelReason });
export type CancelMessage = z.infer<typeof cancelMessageSchema>;
