import { Queue } from 'bullmq';
import { z } from 'zod';
import { createRedis } from '../redis.ts';

/** GitLab's queue name for AI completions. */
export const aiActionQueueName = 'llm_completion';

/** The job: ids and the validated action arguments, never loaded objects (GitLab serializes GIDs the same way). */
export const aiActionJobDataSchema = z.object({
  requestId: z.uuid(),
  userId: z.number().int().positive(),
  actionName: z.string().min(1),
  resourceGid: z.string().nullable(),
  input: z.record(z.string(), z.unknown()),
  clientSubscriptionId: z.string().nullable(),
  platformOrigin: z.string().nullable(),
  /** Epoch milliseconds when the API accepted the request. */
  enqueuedAt: z.number(),
  /** Epoch milliseconds after which the request is not worth answering: it ends as `expired` instead. */
  deadlineAt: z.number().optional(),
  /** Flags that were on for this request when it was accepted; they travel to providers that accept them. */
  enabledFeatureFlags: z.array(z.string()).default([]),
  /** GitLab's `client` (vscode, jetbrains, web_ide, web, …), from the request's User-Agent. */
  client: z.string().default('web'),
  /**
   * The user's Postgres conversation thread the chat continues and stores its answer in; absent: the Redis
   * stream. The API checked it is the user's; the worker reads and writes it scoped to the user again.
   */
  threadId: z.number().int().positive().optional(),
});
export type AiActionJobData = z.infer<typeof aiActionJobDataSchema>;

export const aiActionJobOptions = {
  // Three attempts with 1 s, 2 s backoff: GitLab's provider retry budget, applied only to failures
  // before any text was streamed (the worker publishes a terminal error otherwise).
  attempts: 3,
  backoff: { type: 'exponential', delay: 1_000 },
  // Job data holds user input: drop it as soon as the job is done; keep failures an hour for operators.
  removeOnComplete: true,
  removeOnFail: { age: 3_600 },
} as const;

export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}bull`;
}

/** The producer side: fails fast when Redis is down so the mutation can answer with a clear error. */
export function createAiActionQueue(redisUrl: string, keyPrefix: string) {
  const connection = createRedis(redisUrl, 'command', 'api:queue');
  connection.on('error', () => undefined);
  return new Queue<AiActionJobData, void, string>(aiActionQueueName, {
    connection,
    prefix: bullPrefix(keyPrefix),
    defaultJobOptions: aiActionJobOptions,
  });
}

export type AiActionQueue = ReturnType<typeof createAiActionQueue>;
