/**
 * Subscription.onSyncProgress — the caller's sync progress, live. The filter set here on the server is
 * what keeps users apart: an event reaches a subscriber only when its userId is the subscriber's own
 * (and its jobId the one asked for, when given), whatever arguments the client sends.
 * @dataSource AuthFunction
 */
import { extensions, util, type Context } from '@aws-appsync/utils';
import type { SubscriptionOnSyncProgressArgs } from '../generated/graphql';
import { callerSessionId, callerUserId } from './lib/identity';
import type { LambdaEvent, SessionTokenArgs } from '#contract/lambda-events';

export function request(ctx: Context<SubscriptionOnSyncProgressArgs>) {
  // Checked before anything else so that a caller without a session is refused at `start`. The session
  // itself is then checked: the authorizer's answer may be a cached one from before a sign-out, and a
  // subscription opened on it would outlive the session's invalidation.
  return { operation: 'Invoke', payload: { field: 'checkSession', userId: callerUserId(ctx), args: { sessionToken: ctx.request.headers.authorization } } satisfies LambdaEvent<'checkSession', SessionTokenArgs> };
}

export function response(ctx: Context<SubscriptionOnSyncProgressArgs>) {
  const result = ctx.result as { data?: boolean } | null;
  if (ctx.error || !result || result.data !== true) util.unauthorized();
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
