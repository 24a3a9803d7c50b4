import type { AiMessage } from '../ai-message.ts';
import type { Redis } from '../redis.ts';

/** GitLab's `ChatStorage` constants. */
export const chatHistoryLimits = {
  /** Requests and responses together. */
  maxMessages: 50,
  /** Refreshed on every add, so the stream lives 3 days after its last message. */
  expireSeconds: 3 * 24 * 60 * 60,
  /** Content is truncated to this before it is stored. */
  maxTextLength: 20_000,
} as const;

/** A conversation boundary: the model only sees messages after the last one. */
export const resetCommand = '/reset';
/** Wipes the history (`/clean` is GitLab's older name). */
export const clearCommands: readonly string[] = ['/clear', '/clean'];

export function chatHistoryKey(prefix: string, userId: number): string {
  return `${prefix}ai_chat:${userId}`;
}

function feedbackKey(prefix: string, userId: number): string {
  return `${chatHistoryKey(prefix, userId)}:feedback`;
}

export interface HistoryFilters {
  requestIds?: readonly string[] | null;
  roles?: readonly AiMessage['role'][] | null;
}

/** GitLab's `last_conversation`: the messages after the last `/reset`, all of them when there is none. */
export function messagesAfterLastReset(messages: readonly AiMessage[]): AiMessage[] {
  const lastReset = messages.findLastIndex(
    (message) => message.role === 'user' && message.content.trim() === resetCommand,
  );
  return messages.slice(lastReset + 1);
}

function parseJson<T>(text: string | undefined, fallback: T): T {
  if (!text) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

function fromStreamEntry(fields: string[], feedback: ReadonlySet<string>): AiMessage {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < fields.length; index += 2)
    record[fields[index] as string] = fields[index + 1] as string;
  const extras = parseJson<Partial<AiMessage['extras']>>(record.extras, {});
  const id = record.id ?? '';
  return {
    id,
    requestId: record.request_id ?? '',
    content: record.content ?? '',
    contentHtml: null,
    role: (record.role as AiMessage['role']) ?? 'user',
    timestamp: record.timestamp ?? new Date(0).toISOString(),
    errors: parseJson<string[]>(record.errors, []),
    type: null,
    chunkId: null,
    extras: {
      sources: extras.sources ?? [],
      status: extras.status ?? null,
      model: extras.model ?? null,
      hasFeedback: feedback.has(id),
    },
  };
}

/**
 * One Redis stream per user (`ai_chat:<userId>`), written atomically with its TTL, read oldest first.
 * Only ever addressed by the caller's own user id: a user cannot name another user's stream.
 */
export function createChatHistory(redis: Redis, prefix: string) {
  async function read(userId: number): Promise<AiMessage[]> {
    const key = chatHistoryKey(prefix, userId);
    const [entries, feedback] = await Promise.all([
      redis.xrange(key, '-', '+'),
      redis.smembers(feedbackKey(prefix, userId)),
    ]);
    const feedbackIds = new Set(feedback);
    return entries.map(([, fields]) => fromStreamEntry(fields, feedbackIds));
  }

  return {
    async add(userId: number, message: AiMessage): Promise<void> {
      const key = chatHistoryKey(prefix, userId);
      await redis
        .multi()
        .xadd(
          key,
          'MAXLEN',
          String(chatHistoryLimits.maxMessages),
          '*',
          'id',
          message.id,
          'request_id',
          message.requestId,
          'timestamp',
          message.timestamp,
          'role',
          message.role,
          'content',
          message.content.slice(0, chatHistoryLimits.maxTextLength),
          'errors',
          JSON.stringify(message.errors),
          'extras',
          JSON.stringify({
            sources: message.extras.sources,
            status: message.extras.status,
            model: message.extras.model,
          }),
        )
        .expire(key, chatHistoryLimits.expireSeconds)
        .exec();
    },

    /** The user's messages, oldest first, matching every filter given. */
    async messages(userId: number, filters: HistoryFilters = {}): Promise<AiMessage[]> {
      const requestIds = filters.requestIds ? new Set(filters.requestIds) : undefined;
      const roles = filters.roles ? new Set(filters.roles) : undefined;
      return (await read(userId)).filter(
        (message) => (!requestIds || requestIds.has(message.requestId)) && (!roles || roles.has(message.role)),
      );
    },

    /** The messages after the last `/reset`: what the model is told of the conversation. */
    async lastConversation(userId: number): Promise<AiMessage[]> {
      return messagesAfterLastReset(await read(userId));
    },

    /** `/clear`: wipes the stream and its feedback marks. */
    async clear(userId: number): Promise<void> {
      await redis.multi().xtrim(chatHistoryKey(prefix, userId), 'MAXLEN', 0).del(feedbackKey(prefix, userId)).exec();
    },

    /** Marks a message of the user's own history as having feedback; false when there is no such message. */
    async markFeedback(userId: number, messageId: string): Promise<boolean> {
      const messages = await read(userId);
      if (!messages.some((message) => message.id === messageId)) return false;
      const key = feedbackKey(prefix, userId);
      await redis.multi().sadd(key, messageId).expire(key, chatHistoryLimits.expireSeconds).exec();
      return true;
    },
  };
}

export type ChatHistory = ReturnType<typeof createChatHistory>;
