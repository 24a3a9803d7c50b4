import { LlmError } from '../errors.ts';

/** Waits `milliseconds`, or throws `LlmError('cancelled')` as soon as `signal` aborts: a retry wait never outlives its caller. */
export function abortableSleep(milliseconds: number, signal: AbortSignal | undefined, provider: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () =>
      new LlmError({
        code: 'cancelled',
        provider,
        message: 'Cancelled while waiting to retry.',
        cause: signal?.reason,
      });
    if (signal?.aborted) {
      reject(cancelled());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(cancelled());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
