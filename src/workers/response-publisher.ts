import { randomUUID } from 'node:crypto';
import type { AiMessage, AiMessageExtras, AiMessageRouting, AiMessageStatus } from '../ai-message.ts';
import type { ChatHistory } from '../chat/chat-history.ts';
import { addChatThreadMessage } from '../chat/chat-threads.ts';
import type { Database } from '../db/client.ts';
import { toGlobalId } from '../gid.ts';
import { renderMarkdown } from '../markdown.ts';
import { type AiPubSub, argumentSetsFor } from '../pubsub.ts';
import { finishedStreamSeconds, type RequestLog } from '../requests/request-log.ts';
import type { AiActionJobData } from './queues.ts';

function message(fields: Partial<AiMessage> & Pick<AiMessage, 'requestId' | 'content'>): AiMessage {
  return {
    id: randomUUID(),
    contentHtml: null,
    role: 'assistant',
    timestamp: new Date().toISOString(),
    errors: [],
    type: null,
    chunkId: null,
    extras: { sources: [], hasFeedback: false, status: null, model: null },
    ...fields,
  };
}

/** Chunks sent but not yet acknowledged by Redis before the stream waits: bounds memory if Redis stalls. */
const maxUnacknowledgedChunks = 256;

/**
 * Publishes the responses of one request with GitLab's key sets (reference §2.6, §5.5): chunks go
 * to the clientSubscriptionId keys only; the final message goes to the keys without it (every tab
 * of a chat) and, when the request has one, to the clientSubscriptionId keys too.
 */
export function createResponsePublisher(options: {
  pubsub: AiPubSub;
  chatHistory: ChatHistory;
  routing: AiMessageRouting;
  requestId: string;
  userId: number;
  storesInChatHistory: boolean;
  /** The Postgres thread the final message is stored in instead of the Redis stream (needs `db`). */
  threadId?: number | undefined;
  db?: Database;
  /** Keeps chunks replayable and makes the final message happen once per request; absent in some tests. */
  requestLog?: RequestLog;
  /** Relative links in rendered answers are made absolute against this URL. */
  linkBaseUrl?: string;
}) {
  const { pubsub, routing, requestId } = options;
  let nextChunkId = 1;
  const inFlight = new Set<Promise<void>>();
  let publishError: unknown;
  const chunkKeys = argumentSetsFor(routing, true);
  const hasClientSubscription = routing.clientSubscriptionId !== null;
  const logTo = options.requestLog?.streamKey(requestId);

  /** One store per message: the thread when the request has one (no copy in the stream), else the stream. */
  async function store(final: AiMessage): Promise<void> {
    if (options.threadId === undefined) return options.chatHistory.add(options.userId, final);
    if (!options.db) throw new Error('createResponsePublisher: a threadId needs db');
    // False when the thread expired or was deleted while the job ran: the answer is still published, only not kept.
    await addChatThreadMessage(options.db, { userId: options.userId, threadId: options.threadId, message: final });
  }

  return {
    /** Chat chunks without a clientSubscriptionId have nowhere private to go and are not sent. */
    get streamsChunks(): boolean {
      return hasClientSubscription || !options.storesInChatHistory;
    },

    /**
     * Sends a chunk without waiting for Redis: commands on one connection are delivered in order, so
     * chunks cannot overtake each other, and the stream is not slowed by one round trip per chunk.
     * Only when too many are unacknowledged does it wait (backpressure).
     */
    async publishChunk(content: string): Promise<void> {
      if (!this.streamsChunks) return;
      const chunk = message({ requestId, content, chunkId: nextChunkId });
      nextChunkId += 1;
      const sent = pubsub.publish(chunkKeys, chunk, logTo ? { logTo } : {});
      inFlight.add(sent);
      sent.then(
        () => inFlight.delete(sent),
        (error: unknown) => {
          inFlight.delete(sent);
          publishError ??= error;
        },
      );
      if (inFlight.size >= maxUnacknowledgedChunks) await Promise.race(inFlight).catch(() => undefined);
    },

    /**
     * GitLab's tool notice: role `system`, type `tool`, the tool's human name, to the requesting client
     * only; never stored (reference §5.5). Sent in order with the chunks.
     */
    async publishToolNotice(humanName: string): Promise<void> {
      if (!hasClientSubscription) return;
      await Promise.allSettled(inFlight);
      await pubsub.publish(chunkKeys, message({ requestId, content: humanName, role: 'system', type: 'tool' }));
    },

    /**
     * The request's one terminal message. Idempotent per request: when another attempt (a retried job, the
     * API cancelling a queued job) already published it, nothing is sent and undefined is returned.
     */
    async publishFinal(
      content: string,
      outcome: { status: AiMessageStatus; errors?: string[]; extras?: Partial<AiMessageExtras> },
    ): Promise<AiMessage | undefined> {
      await Promise.allSettled(inFlight);
      if (publishError) throw publishError;
      const errors = outcome.errors ?? [];
      const id = randomUUID();
      const final = message({
        id,
        requestId,
        content,
        contentHtml:
          errors.length > 0
            ? null
            : renderMarkdown(content, options.linkBaseUrl ? { baseUrl: options.linkBaseUrl } : {}),
        errors,
        extras: { sources: [], hasFeedback: false, model: null, ...outcome.extras, status: outcome.status },
      });
      const keys = hasClientSubscription
        ? [...argumentSetsFor(routing, false), ...chunkKeys]
        : argumentSetsFor(routing, false);
      const { requestLog } = options;
      if (requestLog) {
        const published = await pubsub.publishOnce(keys, final, {
          record: requestLog.recordKey(requestId),
          log: requestLog.streamKey(requestId),
          recordSeconds: finishedStreamSeconds,
          logSeconds: finishedStreamSeconds,
        });
        if (!published) return undefined;
        // Stored after it is out: a crash in between costs a history entry, never a second final message.
        if (options.storesInChatHistory) await store(final);
        return final;
      }
      await Promise.all([options.storesInChatHistory ? store(final) : undefined, pubsub.publish(keys, final)]);
      return final;
    },
  };
}

/**
 * A publisher for a job that the caller does not run (the API cancelling a queued job, the worker's hook for a
 * job that failed for good): routed from the job's data, storing nothing in chat history.
 */
export function createPublisherForJob(
  services: { pubsub: AiPubSub; chatHistory: ChatHistory; requestLog: RequestLog },
  data: Pick<AiActionJobData, 'requestId' | 'userId' | 'resourceGid' | 'actionName' | 'clientSubscriptionId'>,
) {
  return createResponsePublisher({
    pubsub: services.pubsub,
    chatHistory: services.chatHistory,
    requestLog: services.requestLog,
    routing: {
      userGid: toGlobalId('User', data.userId),
      resourceGid: data.resourceGid,
      actionName: data.actionName,
      clientSubscriptionId: data.clientSubscriptionId,
    },
    requestId: data.requestId,
    userId: data.userId,
    storesInChatHistory: false,
  });
}
