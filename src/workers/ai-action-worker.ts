import { Worker } from 'bullmq';
import { createRedis } from '../redis.ts';
import { finalizeFailedJob } from './finalize-failed-job.ts';
import { handleAiActionJob, type WorkerServices } from './process-ai-action.ts';
import { type AiActionJobData, aiActionQueueName, bullPrefix } from './queues.ts';

/** The BullMQ worker of the `llm_completion` queue. */
export function createAiActionWorker(
  services: WorkerServices,
  options: { redisUrl: string; keyPrefix: string; concurrency: number; lockDurationMs?: number },
) {
  const connection = createRedis(options.redisUrl, 'blocking', 'worker:llm_completion');
  connection.on('error', () => undefined);
  const worker = new Worker<AiActionJobData, string, string>(
    aiActionQueueName,
    (job, _token, signal) => handleAiActionJob(services, job, signal),
    {
      connection,
      prefix: bullPrefix(options.keyPrefix),
      concurrency: options.concurrency,
      // Streams can run for minutes; the lock is renewed every lockDuration / 2 while the job runs.
      lockDuration: options.lockDurationMs ?? 30_000,
      // A dead worker's jobs are looked for as often as a live one renews its locks.
      stalledInterval: Math.min(30_000, options.lockDurationMs ?? 30_000),
      // Only one stalled recovery: a job whose worker died is retried once, not forever.
      maxStalledCount: 1,
    },
  );
  worker.on('error', (error) => services.logger.error({ err: error }, 'worker connection error'));
  worker.on('failed', (job, error) => {
    services.logger.warn(
      { requestId: job?.data.requestId, err: { name: error.name, message: error.message } },
      'job failed',
    );
    if (job) {
      finalizeFailedJob(services, job, error).catch((finalizeError: unknown) =>
        services.logger.error({ err: finalizeError, requestId: job.data.requestId }, 'could not end a failed job'),
      );
    }
  });
  return worker;
}
