import { util, type Context } from '@aws-appsync/utils';

/**
 * The signed-in user's id, as the Lambda authorizer put it in the resolver context. Every resolver that
 * reads or writes a user's data keys it by this value, never by an argument, so a caller only ever
 * reaches their own items.
 */
export function callerUserId(ctx: Context): string {
  const identity = ctx.identity as { resolverContext?: { userId?: string; rateLimitedForSeconds?: string } } | null;
  const context = identity ? identity.resolverContext : undefined;
  const userId = context ? context.userId : undefined;
  if (!userId) util.unauthorized();
  // The authorizer counted this request past the user's per-minute limit.
  if (context && context.rateLimitedForSeconds) {
    const retryAfterSeconds = Number(context.rateLimitedForSeconds);
    util.error(`Too many requests: retry in ${retryAfterSeconds} s`, 'LimitExceeded', null, { limit: 'requestsPerMinute', retryAfterSeconds });
  }
  return userId as string;
}
