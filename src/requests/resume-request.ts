import type { AiMessage } from '../ai-message.ts';
import type { Redis } from '../redis.ts';
import type { RequestLog } from './request-log.ts';

/** How long one blocking read waits before checking whether the request is still known. */
const blockMs = 2_000;

/**
 * The messages of one request after the chunk a client last saw: the missing chunks, then the live ones
 * as they are appended, then the final message, which ends the stream. Everything is read from the
 * request's log in its one order, so there is no gap and no duplicate. Reads block on a connection of the
 * iterator's own, closed when the client unsubscribes.
 */
export function resumeRequest(options: {
  redis: Redis;
  requestLog: RequestLog;
  requestId: string;
  lastChunkId: number;
}): AsyncIterableIterator<AiMessage> {
  // Blocking reads wait for Redis like subscribers do (queue while connecting), unlike fail-fast command connections.
  const connection = options.redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  let cursor = '0-0';
  let done = false;
  const pending: AiMessage[] = [];

  const finish = async (): Promise<IteratorResult<AiMessage>> => {
    done = true;
    connection.disconnect();
    return { done: true, value: undefined };
  };

  const iterator: AsyncIterableIterator<AiMessage> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next() {
      while (!done) {
        const queued = pending.shift();
        if (queued) {
          if (queued.chunkId === null) {
            await finish();
            return { done: false, value: queued };
          }
          return { done: false, value: queued };
        }
        let read: Awaited<ReturnType<RequestLog['read']>>;
        try {
          read = await options.requestLog.read(connection, options.requestId, cursor, blockMs);
        } catch (error) {
          if (done) break;
          throw error;
        }
        cursor = read.cursor;
        for (const message of read.messages) {
          if (message.chunkId === null || message.chunkId > options.lastChunkId) pending.push(message);
        }
        // Nothing new and the request is forgotten (expired records): nothing more will come.
        if (read.messages.length === 0 && (await options.requestLog.owner(options.requestId)) === undefined) break;
      }
      return finish();
    },
    async return() {
      return finish();
    },
  };
  return iterator;
}
