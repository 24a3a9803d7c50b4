const appErrorMarker = Symbol.for('duo-ai-layer.AppError');

export type AppErrorCode =
  | 'BAD_USER_INPUT'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE';

/**
 * An error whose message is safe to show the user. GraphQL maps it to a GraphQLError with
 * `extensions.code`; REST maps it to a status. Anything else is masked as "Unexpected error.".
 */
export class AppError extends Error {
  override name = 'AppError';
  readonly [appErrorMarker] = true;
  readonly code: AppErrorCode;

  constructor(code: AppErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  static isInstance(value: unknown): value is AppError {
    return typeof value === 'object' && value !== null && appErrorMarker in value;
  }
}

/** GitLab's message for a resource that does not exist or that the user may not see. */
export const resourceNotAvailableMessage =
  "The resource that you are attempting to access does not exist or you don't have permission to perform this action";

export const httpStatusOf: Record<AppErrorCode, number> = {
  BAD_USER_INPUT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
};
