const restHttpErrorMarker = Symbol.for('duo-ai-layer.RestHttpError');

/**
 * A finished HTTP answer thrown from deep inside a route (authentication, validation, rate limiting): the router
 * sends `status` with `body` as JSON. Routes throw it instead of writing the response themselves, so every
 * refusal goes through one place that logs and measures it.
 */
export class RestHttpError extends Error {
  override name = 'RestHttpError';
  readonly [restHttpErrorMarker] = true;
  readonly status: number;
  /** Serialized as the JSON body, exactly as GitLab's services answer (`{error}`, `{detail}` or `{message}`). */
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: unknown, options: { headers?: Record<string, string>; cause?: unknown } = {}) {
    super(`HTTP ${status}`, { cause: options.cause });
    this.status = status;
    this.body = body;
    this.headers = options.headers ?? {};
  }

  static isInstance(value: unknown): value is RestHttpError {
    return typeof value === 'object' && value !== null && restHttpErrorMarker in value;
  }
}
