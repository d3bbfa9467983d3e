import { util, type Context } from '@aws-appsync/utils';
import type { HandlerResult } from '#contract/errors';
import { apiError } from './errors';

/** The shared response handler: a data-source error becomes a GraphQL error, otherwise the result passes. */
export function response(ctx: Context) {
  if (ctx.error) util.error(ctx.error.message, ctx.error.type);
  return ctx.result;
}

/**
 * Response of a Lambda data source that follows functions/shared/handler.ts: API errors arrive as values
 * and keep their type and errorInfo; a thrown error is a fault and is reported without its message.
 */
export function lambdaResponse(ctx: Context) {
  if (ctx.error) apiError('InternalError', 'An internal error occurred.');
  const result = ctx.result as HandlerResult<unknown> | null;
  if (result && result.error) util.error(result.error.message, result.error.errorType, null, result.error.errorInfo);
  return result ? result.data : null;
}
