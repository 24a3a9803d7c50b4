import type { AiMessage } from '../ai-message.ts';

/**
 * Passes messages on while `stillReadable` says the subscriber may still read the resource it subscribed
 * to. It is asked before every delivery; the first time the answer is no (the issue was made confidential,
 * the user removed from the project), nothing more is delivered and the subscription ends.
 */
export function whileReadable(
  messages: AsyncIterableIterator<AiMessage>,
  stillReadable: () => Promise<boolean>,
): AsyncIterableIterator<AiMessage> {
  let ended = false;
  const iterator: AsyncIterableIterator<AiMessage> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      if (ended) return { done: true, value: undefined };
      const result = await messages.next();
      if (result.done) return result;
      if (!(await stillReadable().catch(() => false))) return iterator.return?.() ?? { done: true, value: undefined };
      return result;
    },
    async return() {
      ended = true;
      await messages.return?.();
      return { done: true, value: undefined };
    },
  };
  return iterator;
}
