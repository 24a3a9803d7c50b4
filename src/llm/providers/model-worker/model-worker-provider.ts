import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { createRedis, waitUntilReady } from '../../../redis.ts';
import { LlmError } from '../../errors.ts';
import type { LlmCallOptions, LlmProvider, LlmRequest, LlmResult, LlmStreamPart } from '../../types.ts';
import type { CodeCompletionRequest } from '../shared/code-completion.ts';
import { createJobStreamReader, type JobStreamFollower } from './job-stream-reader.ts';
import {
  type CancelMessage,
  type CancelReason,
  cancelChannel,
  cancelledKey,
  type JobPart,
  jobStreamKey,
  latestCompletionKey,
  type ModelJob,
  modelQueueName,
  partField,
  protocolKeyTtlMs,
} from './model-worker-protocol.ts';

export interface ModelWorkerProviderOptions {
  /** The Redis the model workers pull from (`REDIS_URL`). */
  redisUrl: string;
  /** `REDIS_KEY_PREFIX`; queues, streams and channels all live under it. */
  keyPrefix: string;
  /** The served model (`SELF_HOSTED_MODEL_NAME`); names the queue, so it must equal the worker's `MODEL_NAME`. */
  model: string;
  /**
   * How long to wait for a model worker to take a job. Past it the call fails with `unavailable`: no worker is
   * running for this model, or every GPU slot stayed busy.
   */
  timeoutMs: number;
  /** Once a worker has the job, the longest silence between two parts before `timeout`; 60 s by default. */
  idleTimeoutMs?: number;
  /** Registry id and the name in errors; `self_hosted` by default. */
  id?: string;
}

/** Code completion through the worker; `userId` with `fileName` lets a newer request supersede this one. */
export interface ModelWorkerCodeCompletionRequest extends CodeCompletionRequest {
  /** The requesting user; with `fileName`, a newer request from the same user and file cancels this one. */
  userId?: string | number;
  /** The file being edited (as the IDE sends it). */
  fileName?: string;
}

/** Also a `CodeCompletionProvider`: its request type only adds optional fields. */
export type ModelWorkerProvider = LlmProvider & {
  completeCode(request: ModelWorkerCodeCompletionRequest, options?: LlmCallOptions): Promise<LlmResult>;
  /** Closes the Redis connections and the queues. */
  close(): Promise<void>;
};

/**
 * Silence allowed once a worker has the job. Generous because a GPU may spend seconds on a long prompt's
 * prefill before the first token; a dead worker is still noticed within a minute.
 */
const defaultIdleTimeoutMs = 60_000;

function jobForChat(request: LlmRequest, expiresAt: number): ModelJob {
  // `providerOptions` stays behind: it is free-form and belongs to in-process providers.
  const { providerOptions: _ignored, ...rest } = request;
  return { kind: 'chat', request: rest, expiresAt };
}

/**
 * An {@link LlmProvider} that reaches the GPU model worker only through Redis: each call enqueues a job on the
 * model's BullMQ queue and reads the answer back from the job's Redis stream. GPU hosts therefore need no
 * inbound connection, and the number of calls computed at once is the workers' slot count, whatever the load.
 */
export function createModelWorkerProvider(options: ModelWorkerProviderOptions): ModelWorkerProvider {
  const id = options.id ?? 'self_hosted';
  const { keyPrefix } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? defaultIdleTimeoutMs;
  const command = createRedis(options.redisUrl, 'command', `${id}:model-worker-client`);
  const blocking = createRedis(options.redisUrl, 'blocking', `${id}:model-worker-reader`);
  // Connection errors surface as LlmErrors on the calls; ioredis only needs a listener so it does not crash.
  command.on('error', () => undefined);
  blocking.on('error', () => undefined);
  const reader = createJobStreamReader(blocking, command);
  const queues = new Map<string, Queue>();

  function queueFor(model: string): Queue {
    let queue = queues.get(model);
    if (!queue) {
      queue = new Queue(modelQueueName(model), {
        connection: command,
        prefix: `${keyPrefix}bull`,
        // One attempt: retries belong to the resilience layer (withRetry / fallback), which knows whether text
        // already reached the user. The job holds user input, so it goes as soon as it is done.
        defaultJobOptions: { attempts: 1, removeOnComplete: true, removeOnFail: true },
      });
      queues.set(model, queue);
    }
    return queue;
  }

  async function cancel(jobId: string, model: string, reason: CancelReason): Promise<void> {
    const message: CancelMessage = { jobId, reason };
    try {
      // The marker first: a worker that takes the job after this drops it; one already running gets the message.
      const transaction = command
        .multi()
        .set(cancelledKey(keyPrefix, jobId), reason, 'PX', protocolKeyTtlMs)
        .publish(cancelChannel(keyPrefix, model), JSON.stringify(message));
      if (reason === 'superseded') {
        // The superseded call may wait in another API process, and its job may still sit in the queue: tell it
        // now rather than leave it to time out. A second terminal part from a worker is never read.
        const part: JobPart = {
          type: 'error',
          code: 'cancelled',
          message: 'Superseded by a newer request.',
          cancelReason: 'superseded',
        };
        const key = jobStreamKey(keyPrefix, jobId);
        transaction.xadd(key, '*', partField, JSON.stringify(part)).pexpire(key, protocolKeyTtlMs);
      }
      await transaction.exec();
      // A job still waiting leaves the queue at once, so it never takes a GPU slot (0 when already taken).
      await queueFor(model).remove(jobId);
    } catch {
      // Redis is down: the job's `expiresAt` still stops a worker from computing it later.
    }
  }

  function errorFromPart(part: Extract<JobPart, { type: 'error' }>): LlmError {
    return new LlmError({
      code: part.code,
      provider: id,
      message:
        part.cancelReason === 'superseded'
          ? 'The code completion was superseded by a newer request for the same file.'
          : part.message,
      ...(part.statusCode === undefined ? {} : { statusCode: part.statusCode }),
      ...(part.retryAfterMs === undefined ? {} : { retryAfterMs: part.retryAfterMs }),
    });
  }

  /** The next part, or an LlmError when the caller aborts or the wait runs out. */
  function nextPart(
    follower: JobStreamFollower,
    waitMs: number,
    started: boolean,
    model: string,
    signal?: AbortSignal,
  ) {
    return new Promise<JobPart>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(timer);
        reject(
          new LlmError({
            code: 'cancelled',
            provider: id,
            message: 'The request was cancelled.',
            cause: signal?.reason,
          }),
        );
      };
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        reject(
          started
            ? new LlmError({
                code: 'timeout',
                provider: id,
                message: `The model worker for "${model}" sent nothing for ${waitMs} ms.`,
              })
            : new LlmError({
                code: 'unavailable',
                provider: id,
                message: `No model worker took the job for "${model}" within ${waitMs} ms (queue ${modelQueueName(model)}): none is running for this model, or all its GPU slots stayed busy.`,
              }),
        );
      }, waitMs);
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      follower.next().then((part) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve(part);
      }, reject);
    });
  }

  // Shared by the calls that arrive while the connection is still coming up: one `ready` listener, not one each.
  let connecting: Promise<void> | undefined;
  function connected(): Promise<void> | undefined {
    if (command.status === 'ready') return undefined;
    connecting ??= waitUntilReady(command, options.timeoutMs).finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  async function enqueue(job: ModelJob, jobId: string, model: string): Promise<void> {
    try {
      await connected();
      if (job.kind === 'code' && job.userId !== undefined && job.fileName !== undefined) {
        const key = latestCompletionKey(keyPrefix, model, job.userId, job.fileName);
        // SET … GET swaps in this job and returns the one it supersedes, atomically, across API processes.
        const previous = await command.set(key, jobId, 'PX', protocolKeyTtlMs, 'GET');
        if (previous && previous !== jobId) await cancel(previous, model, 'superseded');
      }
      await queueFor(model).add(job.kind, job, { jobId });
    } catch (error) {
      throw new LlmError({
        code: 'unavailable',
        provider: id,
        message: `Could not queue the job for the model worker of "${model}": Redis is unreachable.`,
        cause: error,
      });
    }
  }

  /** Enqueues a job and yields its parts as they arrive; any early exit cancels the job on the worker. */
  async function* run(job: ModelJob, model: string, signal?: AbortSignal): AsyncIterable<LlmStreamPart> {
    if (signal?.aborted) {
      throw new LlmError({
        code: 'cancelled',
        provider: id,
        message: 'The request was cancelled.',
        cause: signal.reason,
      });
    }
    const jobId = randomUUID();
    const streamKey = jobStreamKey(keyPrefix, jobId);
    const follower = reader.follow(streamKey);
    let done = false;
    let reason: CancelReason = 'caller';
    try {
      await enqueue(job, jobId, model);
      let started = false;
      for (;;) {
        let part: JobPart;
        try {
          part = await nextPart(follower, started ? idleTimeoutMs : options.timeoutMs, started, model, signal);
        } catch (error) {
          if (LlmError.isInstance(error) && error.code === 'unavailable') reason = 'expired';
          throw error;
        }
        if (part.type === 'started') {
          started = true;
        } else if (part.type === 'text-delta') {
          yield part;
        } else if (part.type === 'finish') {
          done = true;
          yield part;
          return;
        } else {
          done = true;
          throw errorFromPart(part);
        }
      }
    } finally {
      follower.stop();
      if (!done) await cancel(jobId, model, reason);
      command.del(streamKey).catch(() => undefined);
    }
  }

  async function collect(parts: AsyncIterable<LlmStreamPart>): Promise<LlmResult> {
    let text = '';
    for await (const part of parts) {
      if (part.type === 'text-delta') text += part.text;
      else return { text, finishReason: part.finishReason, usage: part.usage, model: part.model };
    }
    throw new LlmError({
      code: 'unavailable',
      provider: id,
      message: 'The model worker stream ended without a finish.',
    });
  }

  return {
    id,
    stream(request, callOptions = {}) {
      const model = request.model ?? options.model;
      return run(jobForChat(request, Date.now() + options.timeoutMs), model, callOptions.signal);
    },
    complete(request, callOptions = {}) {
      const model = request.model ?? options.model;
      return collect(run(jobForChat(request, Date.now() + options.timeoutMs), model, callOptions.signal));
    },
    completeCode(request, callOptions = {}) {
      const model = request.model ?? options.model;
      const { userId, fileName, ...codeRequest } = request;
      const job: ModelJob = {
        kind: 'code',
        request: codeRequest,
        ...(userId === undefined ? {} : { userId: String(userId) }),
        ...(fileName === undefined ? {} : { fileName }),
        expiresAt: Date.now() + options.timeoutMs,
      };
      return collect(run(job, model, callOptions.signal));
    },
    async close() {
      await Promise.all([...queues.values()].map((queue) => queue.close()));
      await reader.close();
      command.disconnect();
    },
  };
}
