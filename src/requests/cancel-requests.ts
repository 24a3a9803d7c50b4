import type { Redis } from '../redis.ts';

/** The channel on which the API tells every worker process which request its owner cancelled. */
export function cancelChannel(prefix: string): string {
  return `${prefix}ai_request_cancel`;
}

/** Announces a cancellation to every worker process; the one running the job stops it. */
export async function announceCancel(redis: Redis, prefix: string, requestId: string): Promise<void> {
  await redis.publish(cancelChannel(prefix), requestId);
}

/**
 * Listens for cancellations on a connection of its own (a subscribed connection can do nothing else) and
 * hands each request id to `onCancel`. Returns a function that stops listening.
 */
export async function listenForCancels(
  subscriber: Redis,
  prefix: string,
  onCancel: (requestId: string) => void,
): Promise<() => Promise<void>> {
  const channel = cancelChannel(prefix);
  // Reconnects and re-subscribes by itself; errors while Redis is away are expected, not crashes.
  subscriber.on('error', () => undefined);
  subscriber.on('message', (from: string, requestId: string) => {
    if (from === channel) onCancel(requestId);
  });
  await subscriber.subscribe(channel);
  return async () => {
    await subscriber.unsubscribe(channel).catch(() => undefined);
    subscriber.disconnect();
  };
}
