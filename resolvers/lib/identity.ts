import { extensions, util, type Context } from '@aws-appsync/utils';

/**
 * The signed-in user's id, as the Lambda authorizer put it in the resolver context. Every resolver that
 * reads or writes a user's data keys it by this value, never by an argument, so a caller only ever
 * reaches their own items.
 */
export function callerUserId(ctx: Context): string {
  const identity = ctx.identity as { resolverContext?: { userId?: string } } | null;
  const context = identity ? identity.resolverContext : undefined;
  const userId = context ? context.userId : undefined;
  if (!userId) util.unauthorized();
  return userId as string;
}

/** The id of the caller's session (set by the Lambda authorizer); subscriptions are invalidated by it. */
export function callerSessionId(ctx: Context): string {
  const identity = ctx.identity as { resolverContext?: { sessionId?: string } } | null;
  const context = identity ? identity.resolverContext : undefined;
  const sessionId = context ? context.sessionId : undefined;
  if (!sessionId) util.unauthorized();
  return sessionId as string;
}

/** Ends the onSyncProgress subscriptions whose invalidation filter matches (see Subscription.onSyncProgress). */
export function endSubscriptions(payload: { sessionId?: string; userId?: string }) {
  extensions.invalidateSubscriptions({ subscriptionField: 'onSyncProgress', payload });
}
