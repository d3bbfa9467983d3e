import { util, type Context } from '@aws-appsync/utils';

/**
 * The signed-in user's id, as the Lambda authorizer put it in the resolver context. Every resolver that
 * reads or writes a user's data keys it by this value, never by an argument, so a caller only ever
 * reaches their own items.
 */
export function callerUserId(ctx: Context): string {
  const identity = ctx.identity as { resolverContext?: { userId?: string } } | null;
  const userId = identity?.resolverContext?.userId;
  if (!userId) util.unauthorized();
  return userId as string;
}
