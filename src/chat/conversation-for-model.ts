import type { AiMessage } from '../ai-message.ts';
import type { LlmMessage } from '../llm/types.ts';

/**
 * The earlier turns a model sees (GitLab's `last_conversation` handling, reference §5.2): messages with
 * errors and system notices are dropped, the rest grouped by request, and only complete exchanges (a
 * question and its answer) are kept, oldest first. The current request is never part of its own history.
 */
export function conversationForModel(messages: readonly AiMessage[], currentRequestId: string): LlmMessage[] {
  const exchanges = new Map<string, AiMessage[]>();
  for (const message of messages) {
    const ended = message.extras.status;
    if (message.requestId === currentRequestId || message.role === 'system' || message.errors.length > 0) continue;
    // A cancelled or expired answer is partial: the model should not build on it.
    if (ended === 'cancelled' || ended === 'expired' || ended === 'error') continue;
    const exchange = exchanges.get(message.requestId) ?? [];
    exchange.push(message);
    exchanges.set(message.requestId, exchange);
  }
  const turns: LlmMessage[] = [];
  for (const exchange of exchanges.values()) {
    const question = exchange.find((message) => message.role === 'user');
    const answer = exchange.find((message) => message.role === 'assistant');
    if (!question || !answer) continue;
    turns.push({ role: 'user', content: question.content }, { role: 'assistant', content: answer.content });
  }
  return turns;
}
