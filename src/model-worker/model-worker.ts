import { hostname } from 'node:os';
import { type Job, Worker } from 'bullmq';
import { LlmError } from '../llm/errors.ts';
import {
  type CancelReason,
  cancelChannel,
  cancelledKey,
  cancelMessageSchema,
  cancelReason,
  type JobPart,
  latestCompletionKey,
  type ModelJob,
  modelJobSchema,
  modelQueueName,
} from '../llm/providers/model-worker/model-worker-protocol.ts';
import type { CodeCompletionProvider } from '../llm/providers/shared/code-completion.ts';
import type { LlmProvider } from '../llm/types.ts';
import type { Logger } from '../logger.ts';
import { createRedis, waitUntilReady } from '../redis.ts';
import { createJobStreamWriter, type JobStreamWriter } from './job-stream-writer.ts';

export interface ModelWorkerOptions {
  redisUrl: string;
  /** `REDIS_KEY_PREFIX`, the same as the API side's. */
  keyPrefix: string;
  /** The served model; the worker pulls from this model's queue only. */
  model: string;
  /** Jobs computed at once: the GPU's slots. */
  concurrency: number;
  /** The model server beside this worker (`createOpenAICompatibleProvider`). */
  provider: LlmProvider & CodeCompletionProvider;
  logger: Logger;
  /** Names this worker in `started` parts and logs; host name and pid by default. */
  name?: string;
}

export interface ModelWorker {
  /** Resolves once the worker pulls jobs and listens for cancellations. */
  ready(): Promise<void>;
  /**
   * Stops taking jobs and lets running ones finish for `graceMs`; after that they are cancelled (their callers get
   * `unavailable`, retryable) and the model server's requests aborted.
   */
  close(graceMs?: number): Promise<void>;
}

/** Why the worker drops a job without computing it, or undefined to compute it. */
async function dropReason(
  command: ReturnType<typeof createRedis>,
  options: ModelWorkerOptions,
  jobId: string,
  job: ModelJob,
): Promise<CancelReason | undefined> {
  if (Date.now() > job.expiresAt) return 'expired';
  const latest =
    job.kind === 'code' && job.userId !== undefined && job.fileName !== undefined
      ? latestCompletionKey(options.keyPrefix, options.model, job.userId, job.fileName)
      : undefined;
  // One round trip for both markers; `newest` is undefined when the job has no user and file.
  const [marker, newest] = await command.mget(cancelledKey(options.keyPrefix, jobId), ...(latest ? [latest] : []));
  if (marker !== null && marker !== undefined) return cancelReason.safeParse(marker).data ?? 'caller';
  if (typeof newest === 'string' && newest !== jobId) return 'superseded';
  return undefined;
}

function errorPart(error: unknown, signal: AbortSignal | undefined): JobPart {
  if (signal?.aborted) {
    const reason = cancelReason.safeParse(signal.reason).data ?? 'caller';
    // A shutdown is not the caller's wish: `unavailable` lets its retry reach another worker.
    return reason === 'shutdown'
      ? { type: 'error', code: 'unavailable', message: 'The model worker shut down before the answer was complete.' }
      : { type: 'error', code: 'cancelled', message: `Cancelled (${reason}).`, cancelReason: reason };
  }
  if (LlmError.isInstance(error)) {
    return {
      type: 'error',
      code: error.code,
      message: error.message,
      ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
      ...(error.retryAfterMs === undefined ? {} : { retryAfterMs: error.retryAfterMs }),
    };
  }
  return { type: 'error', code: 'unavailable', message: 'The model worker failed unexpectedly.' };
}

async function compute(job: ModelJob, options: ModelWorkerOptions, writer: JobStreamWriter, signal?: AbortSignal) {
  if (job.kind === 'code') {
    const result = await options.provider.completeCode(job.request, signal ? { signal } : {});
    if (result.text) await writer.write({ type: 'text-delta', text: result.text });
    await writer.write({ type: 'finish', finishReason: result.finishReason, usage: result.usage, model: result.model });
    return;
  }
  for await (const part of options.provider.stream(job.request, signal ? { signal } : {})) {
    // Awaited one by one: the order is kept, and a slow Redis slows the read of the model's stream, not memory.
    await writer.write(part);
  }
}

/**
 * The GPU model worker: pulls jobs for one model from its BullMQ queue (outbound connections only), computes at
 * most `concurrency` at once against the model server, and streams the parts back into each job's Redis stream.
 * Cancellations (the caller's abort, a newer completion for the same file) arrive on a pub/sub channel and abort
 * the model server's HTTP request through BullMQ's per-job AbortSignal.
 */
export function createModelWorker(options: ModelWorkerOptions): ModelWorker {
  const { keyPrefix, model, logger } = options;
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const command = createRedis(options.redisUrl, 'command', `model-worker:${model}:commands`);
  const subscriber = createRedis(options.redisUrl, 'blocking', `model-worker:${model}:cancel`);
  command.on('error', (error) => logger.warn({ err: { message: error.message } }, 'redis connection error'));
  subscriber.on('error', () => undefined);

  // The processor declares all three parameters: BullMQ creates the per-job AbortSignal only for such processors.
  async function processJob(job: Job, _token?: string, signal?: AbortSignal): Promise<void> {
    const jobId = job.id ?? '';
    const writer = createJobStreamWriter(command, keyPrefix, jobId);
    const parsed = modelJobSchema.safeParse(job.data);
    if (!parsed.success) {
      logger.warn({ jobId }, 'model job with an invalid payload; dropped');
      await writer.write({ type: 'started', worker: name });
      await writer.write({ type: 'error', code: 'bad_request', message: 'The model job payload is invalid.' });
      return;
    }
    const data = parsed.data;
    const dropped = await dropReason(command, options, jobId, data);
    if (dropped) {
      // Nothing to tell anyone: the caller gave up (cancelled, expired), or was told by the request that
      // superseded it (the provider writes that part itself, since the job may never reach a worker).
      logger.debug({ jobId, reason: dropped }, 'model job dropped before computing');
      return;
    }
    const startedAt = performance.now();
    try {
      await writer.write({ type: 'started', worker: name });
      await compute(data, options, writer, signal);
      logger.debug({ jobId, kind: data.kind, ms: Math.round(performance.now() - startedAt) }, 'model job done');
    } catch (error) {
      const part = errorPart(error, signal);
      logger.info(
        { jobId, kind: data.kind, code: part.type === 'error' ? part.code : undefined },
        'model job ended early',
      );
      // Redis may be what failed; the caller's idle timeout reports the job then.
      await writer.write(part).catch(() => undefined);
    }
  }

  // BullMQ does not close a connection it was given; `close` does.
  const queueConnection = createRedis(options.redisUrl, 'blocking', `model-worker:${model}:queue`);
  queueConnection.on('error', () => undefined);
  const worker = new Worker(modelQueueName(model), processJob, {
    connection: queueConnection,
    prefix: `${keyPrefix}bull`,
    concurrency: options.concurrency,
    // A job whose worker died mid-answer is not run again: its first tokens already reached the caller, a rerun
    // would repeat them. The caller's idle timeout reports it, and its retry policy decides.
    maxStalledCount: 0,
    // Started by `ready` once the command connection is up: it refuses commands before that (fail-fast role), and
    // a backlog waiting at start-up would otherwise hit it at once.
    autorun: false,
  });
  worker.on('error', (error) => logger.warn({ err: { message: error.message } }, 'model worker queue error'));

  subscriber.on('message', (_channel: string, text: string) => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    const message = cancelMessageSchema.safeParse(json);
    // `cancelJob` is false when the job is not running here; the cancel marker stops it if it starts later.
    if (message.success && worker.cancelJob(message.data.jobId, message.data.reason)) {
      logger.debug({ jobId: message.data.jobId, reason: message.data.reason }, 'model job cancelled while running');
    }
  });
  const subscribed = subscriber.subscribe(cancelChannel(keyPrefix, model));

  return {
    async ready() {
      await Promise.all([subscribed, waitUntilReady(command)]);
      worker.run().catch((error: unknown) => logger.error({ err: { message: String(error) } }, 'model worker stopped'));
      await worker.waitUntilReady();
    },
    async close(graceMs = 10_000) {
      const finished = await Promise.race([
        worker.close().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), graceMs).unref()),
      ]);
      if (!finished) {
        worker.cancelAllJobs('shutdown');
        await worker.close();
      }
      subscriber.disconnect();
      queueConnection.disconnect();
      command.disconnect();
    },
  };
}
