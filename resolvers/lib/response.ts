import { util, type Context } from '@aws-appsync/utils';

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
  if (ctx.error) util.error('An internal error occurred.', 'InternalError');
  const result = ctx.result as { data?: unknown; error?: { errorType: string; message: string; errorInfo: unknown } };
  if (result && result.error) util.error(result.error.message, result.error.errorType, null, result.error.errorInfo);
  return result ? result.data : null;
}
