import type { AiMessage } from '../ai-message.ts';
import type { Database } from '../db/client.ts';
import type { ChatHistory } from './chat-history.ts';
import { lastChatThreadConversation } from './chat-threads.ts';

/**
 * The stored conversation a chat request continues: its Postgres thread when the request names one, otherwise
 * the user's Redis stream (the default store). Both end at the last `/reset`.
 */
export async function lastConversationFor(
  stores: { db: Database; chatHistory: ChatHistory },
  userId: number,
  threadId: number | null | undefined,
): Promise<AiMessage[]> {
  if (threadId) return lastChatThreadConversation(stores.db, { userId, threadId });
  return stores.chatHistory.lastConversation(userId);
}
