/**
 * The API's error model: a closed set of `errorType` values, each with `errorInfo` a client can act on
 * (docs/api.md lists them). Functions throw these; the handler wrapper turns them into values that the
 * resolvers hand to `util.error`, so no stack trace or internal detail reaches a client.
 */
export const ERROR_TYPES = [
  'ValidationError',
  'Unauthorized',
  'NotFound',
  'Conflict',
  'LimitExceeded',
  'MalUnavailable',
  'MalReloginRequired',
  'InternalError',
] as const;

export type ErrorType = (typeof ERROR_TYPES)[number];

export class ApiError extends Error {
  constructor(
    readonly errorType: ErrorType,
    message: string,
    readonly errorInfo: Record<string, unknown> | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = errorType;
  }
}

export class ValidationError extends ApiError {
  constructor(message: string, errorInfo: Record<string, unknown> | null = null, options?: { cause?: unknown }) {
    super('ValidationError', message, errorInfo, options);
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string, errorInfo: Record<string, unknown> | null = null) {
    super('NotFound', message, errorInfo);
  }
}

export class ConflictError extends ApiError {
  constructor(message: string, errorInfo: Record<string, unknown> | null = null) {
    super('Conflict', message, errorInfo);
  }
}

export class UnauthorizedError extends ApiError {
  constructor(message = 'Unauthorized', errorInfo: Record<string, unknown> | null = null) {
    super('Unauthorized', message, errorInfo);
  }
}

export class LimitExceededError extends ApiError {
  constructor(message: string, retryAfterSeconds: number, errorInfo: Record<string, unknown> = {}) {
    super('LimitExceeded', message, { ...errorInfo, retryAfterSeconds });
  }
}

/** What a handler returns: the resolver turns `error` into `util.error(message, errorType, null, errorInfo)`. */
export type HandlerResult<T> = { data: T; error?: undefined } | { data?: undefined; error: { errorType: ErrorType; message: string; errorInfo: Record<string, unknown> | null } };
