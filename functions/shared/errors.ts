/**
 * The API's errors as named classes (types in contract/errors.ts). Functions throw these; the handler
 * wrapper turns them into values that the resolvers hand to `util.error`, so no stack trace or internal
 * detail reaches a client.
 */
import type { ErrorType } from '#contract/errors';

export { ERROR_TYPES, type ErrorType, type HandlerResult } from '#contract/errors';

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
