import type { RequestLog } from '../requests/request-log.ts';
import type { AiActionJobData } from './queues.ts';
import type { createResponsePublisher } from './response-publisher.ts';

/** What a user reads when the deadline passed before the answer was complete. */
export const expiredMessage = 'This request took too long and expired before it could be answered. Please try again.';

/** What a user reads when the worker answering stopped mid-answer (a crash) and the answer cannot be resumed. */
export const interruptedMessage = 'The answer was interrupted before it was complete. Please try again.';

/**
 * Ends a request before any model call when it must not run: already answered (a duplicate delivery),
 * cancelled while it waited, past its deadline, or started by an earlier attempt that streamed part of an
 * answer and died (re-running would show the user a second, different beginning). Returns how it ended,
 * or undefined when the job should run.
 */
export async function settleBeforeStart(
  requestLog: RequestLog | undefined,
  publisher: ReturnType<typeof createResponsePublisher>,
  data: AiActionJobData,
): Promise<'skipped' | 'cancelled' | 'expired' | 'answered-with-error' | undefined> {
  const state = requestLog
    ? await requestLog.snapshot(data.requestId)
    : { finished: false, cancelRequested: false, chunks: [] };
  if (state.finished) return 'skipped';
  if (state.cancelRequested) {
    await publisher.publishFinal('', { status: 'cancelled' });
    return 'cancelled';
  }
  if (data.deadlineAt !== undefined && Date.now() > data.deadlineAt) {
    await publisher.publishFinal('', { status: 'expired', errors: [expiredMessage] });
    return 'expired';
  }
  if (state.chunks.length > 0) {
    const text = state.chunks.map((chunk) => chunk.content).join('');
    await publisher.publishFinal(text, { status: 'error', errors: [interruptedMessage] });
    return 'answered-with-error';
  }
  return undefined;
}
