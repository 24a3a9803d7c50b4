/** GitLab's `AiMessage`, as published to subscribers and kept in chat history. */
export interface AiMessage {
  /** Message UUID. */
  id: string;
  /** Shared by a prompt and all of its responses; clients pair them with it. */
  requestId: string;
  content: string;
  /** Sanitized HTML of `content`; null on chunks and on errored messages. */
  contentHtml: string | null;
  role: 'user' | 'assistant' | 'system';
  /** ISO-8601. */
  timestamp: string;
  errors: string[];
  /** `tool` for tool-selection notices, otherwise null. */
  type: 'tool' | null;
  /** 1..n on streamed chunks; null on complete messages. */
  chunkId: number | null;
  extras: AiMessageExtras;
}

/**
 * How a request ended: answered, failed (with a user-safe message in `errors`), cancelled by its owner,
 * or expired (its deadline passed before it could be answered).
 */
export type AiMessageStatus = 'completed' | 'error' | 'cancelled' | 'expired';

export interface AiMessageExtras {
  sources: Record<string, unknown>[];
  hasFeedback: boolean;
  /** On the final message of a request: how it ended. */
  status: AiMessageStatus | null;
  /** On the final message: which provider and model answered (`anthropic:claude-sonnet-4-5`). */
  model: string | null;
}

/** The routing fields that decide which subscribers receive a message (GitLab's trigger arguments). */
export interface AiMessageRouting {
  userGid: string;
  resourceGid: string | null;
  /** snake_case action (`chat`, `explain_code`). */
  actionName: string;
  clientSubscriptionId: string | null;
}
