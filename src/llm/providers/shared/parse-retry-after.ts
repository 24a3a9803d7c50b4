/** The subset of the fetch `Headers` interface the parser needs, so any SDK's headers object fits. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * The provider's requested wait, in milliseconds: `retry-after-ms` (float milliseconds, sent by Anthropic and
 * OpenAI-compatible servers) wins over `retry-after` (seconds or an HTTP date, RFC 9110). Undefined when absent,
 * unparsable or not positive, so callers fall back to their own backoff.
 */
export function parseRetryAfterMs(headers: HeaderReader | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds > 0) return milliseconds;
  const retryAfter = headers.get('retry-after')?.trim();
  if (!retryAfter) return undefined;
  if (/^\d+(\.\d+)?$/.test(retryAfter)) {
    const seconds = Number.parseFloat(retryAfter);
    return seconds > 0 ? seconds * 1000 : undefined;
  }
  const date = Date.parse(retryAfter);
  return Number.isFinite(date) && date > now ? date - now : undefined;
}
