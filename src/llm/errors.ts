const llmErrorMarker = Symbol.for('duo-ai-layer.LlmError');

export type LlmErrorCode =
  | 'rate_limited'
  | 'overloaded'
  | 'timeout'
  | 'bad_request'
  | 'auth'
  | 'unavailable'
  | 'content_blocked'
  | 'cancelled';

const retryableCodes: ReadonlySet<LlmErrorCode> = new Set(['rate_limited', 'overloaded', 'timeout', 'unavailable']);

/**
 * The closed set of provider failures. `isRetryable` decides retries (never the message text);
 * `retryAfterMs` carries the provider's retry-after when it sent one.
 */
export class LlmError extends Error {
  override name = 'LlmError';
  readonly [llmErrorMarker] = true;
  readonly code: LlmErrorCode;
  readonly provider: string;
  readonly statusCode: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly isRetryable: boolean;

  constructor(options: {
    code: LlmErrorCode;
    provider: string;
    message: string;
    statusCode?: number;
    retryAfterMs?: number;
    isRetryable?: boolean;
    cause?: unknown;
  }) {
    super(options.message, { cause: options.cause });
    this.code = options.code;
    this.provider = options.provider;
    this.statusCode = options.statusCode;
    this.retryAfterMs = options.retryAfterMs;
    this.isRetryable = options.isRetryable ?? retryableCodes.has(options.code);
  }

  /** Works across duplicated package copies, where `instanceof` fails. */
  static isInstance(value: unknown): value is LlmError {
    return typeof value === 'object' && value !== null && llmErrorMarker in value;
  }
}
