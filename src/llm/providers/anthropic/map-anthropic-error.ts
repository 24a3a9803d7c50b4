import {
  AnthropicError,
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
} from '@anthropic-ai/sdk';
import { LlmError, type LlmErrorCode } from '../../errors.ts';
import { parseRetryAfterMs } from '../shared/parse-retry-after.ts';

/** Anthropic's error `type` (from the JSON body or a mid-stream `event: error`) → our code. */
const codeByErrorType: Record<string, LlmErrorCode> = {
  invalid_request_error: 'bad_request',
  not_found_error: 'bad_request',
  request_too_large: 'bad_request',
  conflict_error: 'bad_request',
  authentication_error: 'auth',
  permission_error: 'auth',
  billing_error: 'auth',
  rate_limit_error: 'rate_limited',
  overloaded_error: 'overloaded',
  timeout_error: 'timeout',
  api_error: 'unavailable',
};

function codeForStatus(status: number): LlmErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 529) return 'overloaded';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 401 || status === 402 || status === 403) return 'auth';
  if (status >= 500) return 'unavailable';
  return 'bad_request';
}

/**
 * Maps anything the Anthropic SDK throws to an {@link LlmError}, by class and HTTP status (never by message).
 * `signal` decides aborts: when the caller aborted, the outcome is `cancelled` whatever the SDK threw.
 */
export function mapAnthropicError(error: unknown, context: { provider: string; signal?: AbortSignal }): LlmError {
  const { provider, signal } = context;
  if (LlmError.isInstance(error)) return error;
  if (signal?.aborted || error instanceof APIUserAbortError || isAbortError(error)) {
    return new LlmError({ code: 'cancelled', provider, message: 'The Anthropic request was cancelled.', cause: error });
  }
  if (error instanceof APIConnectionTimeoutError) {
    return new LlmError({ code: 'timeout', provider, message: 'The Anthropic request timed out.', cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new LlmError({ code: 'unavailable', provider, message: 'Could not reach the Anthropic API.', cause: error });
  }
  if (error instanceof APIError) {
    const status: number | undefined = error.status;
    // A mid-stream `event: error` arrives after a 200, so it has no status: its body `type` decides.
    const code = status === undefined ? (codeByErrorType[error.type ?? ''] ?? 'unavailable') : codeForStatus(status);
    const headers: Headers | undefined = error.headers;
    return new LlmError({
      code,
      provider,
      message: `Anthropic API error${status === undefined ? ' during the stream' : ` ${status}`}: ${error.type ?? 'unknown_error'}${error.requestID ? ` (request ${error.requestID})` : ''}.`,
      statusCode: status,
      retryAfterMs: parseRetryAfterMs(headers),
      cause: error,
    });
  }
  const detail = error instanceof AnthropicError ? 'SDK error' : 'transport error';
  // What is left is the stream breaking under us (undici's "terminated" TypeError, a JSON frame cut in half):
  // the upstream is at fault and a new attempt may well succeed.
  return new LlmError({
    code: 'unavailable',
    provider,
    message: `The Anthropic response failed (${detail}).`,
    cause: error,
  });
}

function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
