/**
 * Mutation.refreshSession — a fresh session token for the caller's current one, which is revoked.
 * @dataSource AuthFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerSessionId, callerUserId, endSubscriptions } from './lib/identity';
import { lambdaResponse } from './lib/response';
import type { LambdaEvent, SessionTokenArgs } from '#contract/lambda-events';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'refreshSession', userId: callerUserId(ctx), args: { sessionToken: ctx.request.headers.authorization } } satisfies LambdaEvent<'refreshSession', SessionTokenArgs> };
}

export function response(ctx: Context) {
  const result = lambdaResponse(ctx);
  // The old session's subscriptions end with it; the new token opens its own.
  endSubscriptions({ sessionId: callerSessionId(ctx) });
  return result;
}
