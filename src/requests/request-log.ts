import type { AiMessage } from '../ai-message.ts';
import type { Redis } from '../redis.ts';

/** How long a request's record lives while it may still run: long enough for any deadline. */
export const requestRecordSeconds = 3_600;
/** How long a finished request's messages stay replayable for a client that reconnects. */
export const finishedStreamSeconds = 600;

/**
 * What Redis keeps about one request, beside the pub/sub messages: who owns it, whether its one final
 * message was claimed, whether its owner asked to cancel it, and every chunk and the final message in
 * order (a Redis stream) so a client that reconnects can resume without a gap or a duplicate.
 */
export interface RequestLog {
  /** Records the owner when the request is accepted. */
  register(requestId: string, userId: number): Promise<void>;
  /** The owner's user id, or undefined when the request is unknown or forgotten. */
  owner(requestId: string): Promise<number | undefined>;
  /** The stream key the publisher appends to (with PUBLISH, on one connection, so order is shared). */
  streamKey(requestId: string): string;
  /** The record hash whose `final` field marks the one final message (claimed by `AiPubSub.publishOnce`). */
  recordKey(requestId: string): string;
  /** Whether the final message was published. */
  isFinished(requestId: string): Promise<boolean>;
  /** The chunks published so far, in order. */
  chunks(requestId: string): Promise<AiMessage[]>;
  /**
   * Messages after `afterChunkId` (chunks with a higher id, then the final message), waiting up to
   * `blockMs` for new ones; `cursor` continues a previous read. Uses `connection` for the blocking read.
   */
  read(
    connection: Redis,
    requestId: string,
    cursor: string,
    blockMs: number,
  ): Promise<{ messages: AiMessage[]; cursor: string }>;
  /** Finished, cancel-requested and the chunks so far, in one round trip (what a job checks before it runs). */
  snapshot(requestId: string): Promise<{ finished: boolean; cancelRequested: boolean; chunks: AiMessage[] }>;
  markCancelRequested(requestId: string): Promise<void>;
}

function parseEntries(entries: [string, string[]][] | null | undefined): { messages: AiMessage[]; cursor?: string } {
  const messages: AiMessage[] = [];
  let cursor: string | undefined;
  for (const [id, fields] of entries ?? []) {
    cursor = id;
    const index = fields.indexOf('message');
    const json = index >= 0 ? fields[index + 1] : undefined;
    if (json) messages.push(JSON.parse(json) as AiMessage);
  }
  return cursor === undefined ? { messages } : { messages, cursor };
}

export function createRequestLog(redis: Redis, prefix: string): RequestLog {
  // One hash tag per request: both keys live in one Redis Cluster slot, as the publish script needs.
  const recordKey = (requestId: string) => `${prefix}ai_request:{${requestId}}`;
  const streamKey = (requestId: string) => `${prefix}ai_request:{${requestId}}:messages`;
  return {
    streamKey,
    recordKey,
    async register(requestId, userId) {
      await redis
        .multi()
        .hset(recordKey(requestId), 'userId', String(userId))
        .expire(recordKey(requestId), requestRecordSeconds)
        .exec();
    },
    async owner(requestId) {
      const value = await redis.hget(recordKey(requestId), 'userId');
      return value === null ? undefined : Number(value);
    },
    async isFinished(requestId) {
      return (await redis.hexists(recordKey(requestId), 'final')) === 1;
    },
    async chunks(requestId) {
      const entries = (await redis.xrange(streamKey(requestId), '-', '+')) as [string, string[]][];
      return parseEntries(entries).messages.filter((message) => message.chunkId !== null);
    },
    async read(connection, requestId, cursor, blockMs) {
      const result = (await connection.xread('BLOCK', blockMs, 'STREAMS', streamKey(requestId), cursor)) as
        | [string, [string, string[]][]][]
        | null;
      const parsed = parseEntries(result?.[0]?.[1]);
      return { messages: parsed.messages, cursor: parsed.cursor ?? cursor };
    },
    async snapshot(requestId) {
      const results = await redis
        .multi()
        .hmget(recordKey(requestId), 'final', 'cancel')
        .xrange(streamKey(requestId), '-', '+')
        .exec();
      const [final, cancel] = (results?.[0]?.[1] as (string | null)[] | undefined) ?? [null, null];
      const entries = (results?.[1]?.[1] as [string, string[]][] | undefined) ?? [];
      return {
        finished: final !== null,
        cancelRequested: cancel === '1',
        chunks: parseEntries(entries).messages.filter((message) => message.chunkId !== null),
      };
    },
    async markCancelRequested(requestId) {
      await redis.hset(recordKey(requestId), 'cancel', '1');
    },
  };
}
