import { and, desc, eq, gte, inArray, lt, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AiMessage, AiMessageExtras } from '../ai-message.ts';
import type { Database } from '../db/client.ts';
import {
  type AiConversationMessage,
  type AiConversationThread,
  aiConversationMessages,
  aiConversationThreads,
  type ConversationType,
} from '../db/schema/ai-conversation-threads.ts';
import type { Logger } from '../logger.ts';
import {
  chatHistoryLimits,
  clearCommands,
  type HistoryFilters,
  messagesAfterLastReset,
  resetCommand,
} from './chat-history.ts';

/** GitLab's thread constants (reference §4.2). */
export const chatThreadLimits = {
  /** A read returns the thread's most recent messages, like the stream's length. */
  maxMessages: chatHistoryLimits.maxMessages,
  /** Content is truncated to this before it is stored, as in the stream. */
  maxTextLength: chatHistoryLimits.maxTextLength,
  /** A thread with no activity for this long is expired: invisible at once, deleted by the next sweep. */
  inactiveDays: 30,
  /** The title is the first question, cut to this. */
  maxTitleLength: 255,
} as const;

/** GitLab's message for a thread id that is unknown, expired or another user's. */
export const threadNotFoundMessage = 'Thread not found. It may have expired.';

export type ChatThread = AiConversationThread;

const dayMilliseconds = 24 * 60 * 60 * 1_000;
const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Threads last touched before this are expired. */
function expiryCutoff(now: Date): Date {
  return new Date(now.getTime() - chatThreadLimits.inactiveDays * dayMilliseconds);
}

/** The user's own thread with that id, when it is still alive. Every read and write goes through this scope. */
function ownedActiveThread(userId: number, threadId: number, now: Date) {
  return and(
    eq(aiConversationThreads.id, threadId),
    eq(aiConversationThreads.userId, userId),
    gte(aiConversationThreads.lastUpdatedAt, expiryCutoff(now)),
  );
}

/** `extras` is JSON written by this service, but a JSON column is still a boundary: unknown shapes fall back. */
const storedExtrasSchema = z.object({
  sources: z.array(z.record(z.string(), z.unknown())).catch([]),
  // Whatever status the service wrote (the set grows with the service); only its shape is checked here.
  status: z.custom<AiMessageExtras['status']>((value) => value === null || typeof value === 'string').catch(null),
  model: z.string().nullable().catch(null),
});
const storedErrorsSchema = z.array(z.string()).catch([]);

function toAiMessage(row: AiConversationMessage): AiMessage {
  const extras = storedExtrasSchema.parse(row.extras ?? {});
  return {
    id: row.messageXid,
    requestId: row.requestXid,
    content: row.content,
    contentHtml: null,
    role: row.role,
    timestamp: row.createdAt.toISOString(),
    errors: storedErrorsSchema.parse(row.errors),
    type: null,
    chunkId: null,
    extras: { ...extras, hasFeedback: row.hasFeedback },
  };
}

/** A question that can name a thread: not a `/reset` or `/clear` command. */
function titleFrom(message: AiMessage): string | undefined {
  if (message.role !== 'user') return undefined;
  const text = message.content.trim();
  if (text === '' || text === resetCommand || clearCommands.includes(text)) return undefined;
  return text.slice(0, chatThreadLimits.maxTitleLength);
}

/** Starts an empty thread for the user; it is named by its first question. */
export async function createChatThread(
  db: Database,
  options: { userId: number; conversationType: ConversationType; now?: Date },
): Promise<ChatThread> {
  const now = options.now ?? new Date();
  const [thread] = await db
    .insert(aiConversationThreads)
    .values({ userId: options.userId, conversationType: options.conversationType, createdAt: now, lastUpdatedAt: now })
    .returning();
  if (!thread) throw new Error('insert into ai_conversation_threads returned no row');
  return thread;
}

/** The user's thread with that id; undefined when it does not exist, expired, or is another user's. */
export async function findChatThread(
  db: Database,
  options: { userId: number; threadId: number; now?: Date },
): Promise<ChatThread | undefined> {
  const [thread] = await db
    .select()
    .from(aiConversationThreads)
    .where(ownedActiveThread(options.userId, options.threadId, options.now ?? new Date()))
    .limit(1);
  return thread;
}

/** The user's live threads, most recent activity first, optionally of one type or one id. */
export async function listChatThreads(
  db: Database,
  options: { userId: number; conversationType?: ConversationType | null; threadId?: number | null; now?: Date },
): Promise<ChatThread[]> {
  return db
    .select()
    .from(aiConversationThreads)
    .where(
      and(
        eq(aiConversationThreads.userId, options.userId),
        gte(aiConversationThreads.lastUpdatedAt, expiryCutoff(options.now ?? new Date())),
        options.conversationType ? eq(aiConversationThreads.conversationType, options.conversationType) : undefined,
        options.threadId ? eq(aiConversationThreads.id, options.threadId) : undefined,
      ),
    )
    .orderBy(desc(aiConversationThreads.lastUpdatedAt), desc(aiConversationThreads.id));
}

/**
 * Stores a prompt or a final answer in the user's thread and touches the thread's `last_updated_at` (the
 * expiry clock); the first question becomes the title. False when the thread is not the user's or expired.
 */
export async function addChatThreadMessage(
  db: Database,
  options: { userId: number; threadId: number; message: AiMessage; now?: Date },
): Promise<boolean> {
  const { message } = options;
  const now = options.now ?? new Date();
  const title = titleFrom(message);
  return db.transaction(async (transaction) => {
    const [touched] = await transaction
      .update(aiConversationThreads)
      .set({
        lastUpdatedAt: now,
        ...(title === undefined ? {} : { title: sql`coalesce(${aiConversationThreads.title}, ${title})` }),
      })
      .where(ownedActiveThread(options.userId, options.threadId, now))
      .returning({ id: aiConversationThreads.id });
    if (!touched) return false;
    await transaction.insert(aiConversationMessages).values({
      threadId: touched.id,
      messageXid: message.id,
      requestXid: message.requestId,
      role: message.role,
      content: message.content.slice(0, chatThreadLimits.maxTextLength),
      errors: message.errors,
      extras: { sources: message.extras.sources, status: message.extras.status, model: message.extras.model },
      hasFeedback: message.extras.hasFeedback,
      createdAt: new Date(message.timestamp),
    });
    return true;
  });
}

/**
 * The thread's most recent messages, oldest first, matching every filter given (as in the stream, the
 * filters apply to those recent messages). Undefined when the thread is not the user's or expired.
 */
export async function chatThreadMessages(
  db: Database,
  options: { userId: number; threadId: number; filters?: HistoryFilters; now?: Date },
): Promise<AiMessage[] | undefined> {
  const thread = await findChatThread(db, options);
  if (!thread) return undefined;
  const rows = await db
    .select()
    .from(aiConversationMessages)
    .where(eq(aiConversationMessages.threadId, thread.id))
    .orderBy(desc(aiConversationMessages.id))
    .limit(chatThreadLimits.maxMessages);
  const requestIds = options.filters?.requestIds ? new Set(options.filters.requestIds) : undefined;
  const roles = options.filters?.roles ? new Set(options.filters.roles) : undefined;
  return rows
    .reverse()
    .map(toAiMessage)
    .filter((message) => (!requestIds || requestIds.has(message.requestId)) && (!roles || roles.has(message.role)));
}

/** The thread's messages after its last `/reset`: what the model is told. Empty for a thread that is gone. */
export async function lastChatThreadConversation(
  db: Database,
  options: { userId: number; threadId: number },
): Promise<AiMessage[]> {
  return messagesAfterLastReset((await chatThreadMessages(db, options)) ?? []);
}

/** Marks a message of one of the user's live threads as having feedback; false when there is no such message. */
export async function markChatThreadMessageFeedback(
  db: Database,
  options: { userId: number; messageId: string; now?: Date },
): Promise<boolean> {
  // Not a UUID: it cannot be a thread message, and the uuid column would refuse the comparison.
  if (!uuidPattern.test(options.messageId)) return false;
  const userThreads = db
    .select({ id: aiConversationThreads.id })
    .from(aiConversationThreads)
    .where(
      and(
        eq(aiConversationThreads.userId, options.userId),
        gte(aiConversationThreads.lastUpdatedAt, expiryCutoff(options.now ?? new Date())),
      ),
    );
  const marked = await db
    .update(aiConversationMessages)
    .set({ hasFeedback: true })
    .where(
      and(
        eq(aiConversationMessages.messageXid, options.messageId),
        inArray(aiConversationMessages.threadId, userThreads),
      ),
    )
    .returning({ id: aiConversationMessages.id });
  return marked.length > 0;
}

/** Deletes every thread (and, by cascade, its messages) with no activity for 30 days; returns how many. */
export async function deleteExpiredChatThreads(db: Database, options: { now?: Date } = {}): Promise<number> {
  const deleted = await db
    .delete(aiConversationThreads)
    .where(lt(aiConversationThreads.lastUpdatedAt, expiryCutoff(options.now ?? new Date())))
    .returning({ id: aiConversationThreads.id });
  return deleted.length;
}

/**
 * Runs {@link deleteExpiredChatThreads} in the background. Hourly is plenty: reads already hide expired threads,
 * so the sweep only reclaims space; one indexed DELETE per replica per hour costs nothing, and replicas sweeping
 * at the same time only delete the same rows once.
 */
export function scheduleChatThreadExpiry(
  db: Database,
  logger: Logger,
  options: { intervalMs?: number; firstRunMs?: number } = {},
): { stop(): void } {
  const sweep = () => {
    deleteExpiredChatThreads(db)
      .then((count) => {
        if (count > 0) logger.info({ count }, 'deleted expired conversation threads');
      })
      .catch((error: unknown) => logger.warn({ err: error }, 'could not delete expired conversation threads'));
  };
  // The first sweep waits a minute so it never competes with start-up.
  const first = setTimeout(sweep, options.firstRunMs ?? 60_000);
  const interval = setInterval(sweep, options.intervalMs ?? 60 * 60 * 1_000);
  first.unref();
  interval.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(interval);
    },
  };
}
