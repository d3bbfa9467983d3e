/**
 * Mutation.signOut — revokes the caller's current session token.
 * @dataSource AuthFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerSessionId, callerUserId, endSubscriptions } from './lib/identity';
import { lambdaResponse } from './lib/response';
import type { LambdaEvent, SessionTokenArgs } from '#contract/lambda-events';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'signOut', userId: callerUserId(ctx), args: { sessionToken: ctx.request.headers.authorization } } satisfies LambdaEvent<'signOut', SessionTokenArgs> };
}

export function response(ctx: Context) {
  const result = lambdaResponse(ctx);
  // The signed-out session's subscriptions end with it.
  endSubscriptions({ sessionId: callerSessionId(ctx) });
  return result;
}
