import { ApiError } from '@google/genai';
import { z } from 'zod';
import { LlmError, type LlmErrorCode } from '../../errors.ts';

/** Google's JSON error envelope; only the fields we read, all optional so odd proxies still parse. */
const googleErrorEnvelope = z.object({
  error: z.object({
    code: z.number().nullish(),
    message: z.string().nullish(),
    status: z.string().nullish(),
    details: z.array(z.object({ '@type': z.string().nullish(), retryDelay: z.string().nullish() }).loose()).nullish(),
  }),
});

export type GoogleErrorEnvelope = z.infer<typeof googleErrorEnvelope>;

export function parseGoogleErrorEnvelope(text: string): GoogleErrorEnvelope | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = googleErrorEnvelope.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}

/** `google.rpc.RetryInfo.retryDelay` is a protobuf Duration in JSON form, e.g. `"2s"` or `"0.020s"`. */
export function retryDelayMs(envelope: GoogleErrorEnvelope | undefined): number | undefined {
  for (const detail of envelope?.error.details ?? []) {
    if (!detail['@type']?.endsWith('google.rpc.RetryInfo') || !detail.retryDelay) continue;
    const match = /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay);
    if (match?.[1]) return Number.parseFloat(match[1]) * 1000;
  }
  return undefined;
}

export function codeForGoogleStatus(status: number): LlmErrorCode {
  if (status === 429) return 'rate_limited';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 504) return 'timeout';
  if (status === 499) return 'cancelled';
  if (status === 529) return 'overloaded';
  if (status >= 500) return 'unavailable';
  return 'bad_request';
}

/**
 * Maps what `@google/genai` (or our own `:predict` fetch) throws to an {@link LlmError}, by HTTP status.
 * `ApiError` carries only `status` and, as its message, the JSON error body the SDK read; that body is
 * validated with Zod for `status` and `RetryInfo`, never matched as text.
 */
export function mapVertexError(error: unknown, context: { provider: string; signal?: AbortSignal }): LlmError {
  const { provider, signal } = context;
  if (LlmError.isInstance(error)) return error;
  if (signal?.aborted || (error instanceof Error && error.name === 'AbortError')) {
    return new LlmError({ code: 'cancelled', provider, message: 'The Vertex AI request was cancelled.', cause: error });
  }
  if (error instanceof ApiError) {
    const envelope = parseGoogleErrorEnvelope(error.message);
    return new LlmError({
      code: codeForGoogleStatus(error.status),
      provider,
      message: `Vertex AI error ${error.status}${envelope?.error.status ? ` ${envelope.error.status}` : ''}.`,
      statusCode: error.status,
      retryAfterMs: retryDelayMs(envelope),
      cause: error,
    });
  }
  // Transport failures (connection refused or reset, a stream cut mid-frame): a new attempt may succeed.
  return new LlmError({ code: 'unavailable', provider, message: 'The Vertex AI response failed.', cause: error });
}
