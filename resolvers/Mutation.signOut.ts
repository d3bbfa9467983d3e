/**
 * Mutation.signOut — revokes the caller's current session token.
 * @dataSource AuthFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerUserId } from './lib/identity';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'signOut', userId: callerUserId(ctx), sessionToken: ctx.request.headers.authorization } };
}

export { lambdaResponse as response } from './lib/response';
