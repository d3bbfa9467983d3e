/**
 * Subscription.onSyncProgress — the caller's sync progress, live. The filter set here on the server is
 * what keeps users apart: an event reaches a subscriber only when its userId is the subscriber's own
 * (and its jobId the one asked for, when given), whatever arguments the client sends.
 * @dataSource None
 */
import { extensions, util, type Context } from '@aws-appsync/utils';
import type { SubscriptionOnSyncProgressArgs } from '../generated/graphql';
import { callerSessionId, callerUserId } from './lib/identity';

export function request(ctx: Context<SubscriptionOnSyncProgressArgs>) {
  // Checked before anything else so that a caller without a session is refused at `start`.
  callerUserId(ctx);
  return { payload: null };
}

export function response(ctx: Context<SubscriptionOnSyncProgressArgs>) {
  const filter: Record<string, unknown> = { userId: { eq: callerUserId(ctx) } };
  if (ctx.args.jobId) filter.jobId = { eq: ctx.args.jobId };
  extensions.setSubscriptionFilter(util.transform.toSubscriptionFilter(filter));
  // Ended when the session that opened it ends (signOut, refreshSession) or the account is deleted.
  extensions.setSubscriptionInvalidationFilter(
    util.transform.toSubscriptionFilter({ or: [{ sessionId: { eq: callerSessionId(ctx) } }, { userId: { eq: callerUserId(ctx) } }] }),
  );
  // AppSync subscription resolvers return null: the payload comes from the triggering mutation.
  return null;
}
