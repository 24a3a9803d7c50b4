import { LlmError, type LlmErrorCode } from '../../errors.ts';
import { parseRetryAfterMs } from '../shared/parse-retry-after.ts';
import { type ErrorBody, errorBody, parseJsonWith } from './openai-compatible-schemas.ts';

export function codeForStatus(status: number): LlmErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 529) return 'overloaded';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'unavailable';
  return 'bad_request';
}

function typeOf(body: ErrorBody | undefined): string | undefined {
  if (!body) return undefined;
  return ('error' in body ? body.error.type : body.type) ?? undefined;
}

/** An LlmError for a non-2xx response; the body is read only for its error `type`, validated with Zod. */
export function errorFromResponse(provider: string, response: Response, text: string): LlmError {
  const type = typeOf(parseJsonWith(text, errorBody));
  return new LlmError({
    code: codeForStatus(response.status),
    provider,
    message: `${provider} returned HTTP ${response.status}${type ? ` (${type})` : ''}.`,
    statusCode: response.status,
    retryAfterMs: parseRetryAfterMs(response.headers),
  });
}

/** An LlmError for an `{"error":…}` frame inside a 200 stream; a numeric `code` is read as an HTTP status. */
export function errorFromStreamFrame(provider: string, body: ErrorBody): LlmError {
  const code = 'error' in body ? body.error.code : body.code;
  const status = typeof code === 'number' && code >= 400 && code < 600 ? code : undefined;
  return new LlmError({
    code: status === undefined ? 'unavailable' : codeForStatus(status),
    provider,
    message: `${provider} reported an error during the stream${typeOf(body) ? ` (${typeOf(body)})` : ''}.`,
    statusCode: status,
  });
}

/** Maps a thrown fetch or body-read failure: an abort by our caller is `cancelled`, anything else `unavailable`. */
export function mapTransportError(error: unknown, context: { provider: string; signal?: AbortSignal }): LlmError {
  const { provider, signal } = context;
  if (LlmError.isInstance(error)) return error;
  if (signal?.aborted || (error instanceof Error && error.name === 'AbortError')) {
    return new LlmError({
      code: 'cancelled',
      provider,
      message: `The ${provider} request was cancelled.`,
      cause: error,
    });
  }
  return new LlmError({ code: 'unavailable', provider, message: `Could not reach ${provider}.`, cause: error });
}
