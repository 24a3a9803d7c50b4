import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { users } from './users.ts';

/**
 * GitLab's `Ai::Conversation::Thread` conversation types, minus `duo_chat_legacy` (our legacy store is the
 * Redis stream, not a thread).
 */
export const conversationTypes = ['duo_chat', 'duo_quick_chat', 'duo_code_review'] as const;
export type ConversationType = (typeof conversationTypes)[number];

/**
 * A conversation thread (GitLab's later chat storage, reference §4.2). A thread with no activity for 30 days
 * is deleted with its messages; `last_updated_at` is the user's last interaction.
 */
export const aiConversationThreads = pgTable(
  'ai_conversation_threads',
  {
    id: integer('id').primaryKey().generatedByDefaultAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    conversationType: text('conversation_type', { enum: conversationTypes }).notNull().default('duo_chat'),
    /** The thread's first question, truncated; null until one is asked. */
    title: text('title'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /** Touched by every message added; the expiry clock. */
    lastUpdatedAt: timestamp('last_updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // A user's threads, newest activity first.
    index('ai_conversation_threads_user_id_last_updated_at_idx').on(table.userId, table.lastUpdatedAt),
    // The expiry sweep deletes across all users by age.
    index('ai_conversation_threads_last_updated_at_idx').on(table.lastUpdatedAt),
  ],
);

/** A stored message of a thread: prompts and final answers, never chunks or tool notices. */
export const aiConversationMessages = pgTable(
  'ai_conversation_messages',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedByDefaultAsIdentity(),
    threadId: integer('thread_id')
      .notNull()
      .references(() => aiConversationThreads.id, { onDelete: 'cascade' }),
    /** The public message id (`AiMessage.id`). */
    messageXid: uuid('message_xid').notNull().unique(),
    /** Shared by a prompt and its answer (`AiMessage.requestId`). */
    requestXid: uuid('request_xid').notNull(),
    role: text('role', { enum: ['user', 'assistant', 'system'] }).notNull(),
    /** Truncated to 20,000 characters, as in the Redis stream. */
    content: text('content').notNull(),
    errors: jsonb('errors').$type<string[]>().notNull().default([]),
    /** `sources`, `status` and `model` of `AiMessage.extras`; `hasFeedback` is its own column. */
    extras: jsonb('extras').$type<Record<string, unknown>>().notNull().default({}),
    hasFeedback: boolean('has_feedback').notNull().default(false),
    /** The message's `timestamp`. */
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // Reads take a thread's most recent messages by insertion order.
  (table) => [index('ai_conversation_messages_thread_id_id_idx').on(table.threadId, table.id)],
);

export type AiConversationThread = typeof aiConversationThreads.$inferSelect;
export type AiConversationMessage = typeof aiConversationMessages.$inferSelect;
