import { LRUCache } from 'lru-cache';
import type { AiMessage } from '../ai-message.ts';
import { renderMarkdown } from '../markdown.ts';

/**
 * Rendered HTML of stored messages, by message id and content: a stored message never changes, and
 * rendering plus sanitizing is most of the cost of reading a 50-message history (bench/results/chat.md).
 */
const renderedHtml = new LRUCache<string, string>({ max: 20_000 });

/** `contentHtml` for a stored message: null for errored ones, otherwise the sanitized rendering. */
export function storedMessageHtml(
  message: Pick<AiMessage, 'id' | 'content' | 'errors'>,
  linkBaseUrl?: string,
): string | null {
  if (message.errors.length > 0) return null;
  const key = `${message.id}:${message.content.length}:${linkBaseUrl ?? ''}`;
  const cached = renderedHtml.get(key);
  if (cached !== undefined) return cached;
  const html = renderMarkdown(message.content, linkBaseUrl ? { baseUrl: linkBaseUrl } : {});
  renderedHtml.set(key, html);
  return html;
}
