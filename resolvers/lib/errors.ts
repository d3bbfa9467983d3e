import { util } from '@aws-appsync/utils';
import type { ErrorInfo, ErrorType } from '#contract/errors';

/** Stops the resolver with one of the API's error types (never a free-form string). */
export function apiError(type: ErrorType, message: string, errorInfo: ErrorInfo = null): never {
  util.error(message, type, null, errorInfo);
}
