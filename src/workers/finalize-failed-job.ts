import type { Job } from 'bullmq';
import type { WorkerServices } from './process-ai-action.ts';
import { providerFailureMessage } from './process-ai-action.ts';
import { aiActionJobDataSchema } from './queues.ts';
import { createPublisherForJob } from './response-publisher.ts';
import { interruptedMessage } from './settle-before-start.ts';

/**
 * A job that failed for good (retries spent, stalled twice after worker crashes, an unexpected error)
 * still owes its user a terminal message. Published once: when the job itself already did, nothing
 * happens.
 */
export async function finalizeFailedJob(services: WorkerServices, job: Job<unknown>, error: Error): Promise<void> {
  const attempts = job.opts.attempts ?? 1;
  const stalled = /stalled/i.test(error.message);
  if (!stalled && job.attemptsMade < attempts && error.name !== 'UnrecoverableError') return;
  const parsed = aiActionJobDataSchema.safeParse(job.data);
  if (!parsed.success || !services.requestLog) return;
  const data = parsed.data;
  const publisher = createPublisherForJob(
    { pubsub: services.pubsub, chatHistory: services.chatHistory, requestLog: services.requestLog },
    data,
  );
  const chunks = await services.requestLog.chunks(data.requestId);
  const published = await publisher.publishFinal(chunks.map((chunk) => chunk.content).join(''), {
    status: 'error',
    errors: [chunks.length > 0 ? interruptedMessage : providerFailureMessage],
  });
  if (published) services.logger.warn({ requestId: data.requestId, stalled }, 'failed job ended with an error message');
}
