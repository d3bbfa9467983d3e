/**
 * Mutation.refreshSession — a fresh session token for the caller's current one, which is revoked.
 * @dataSource AuthFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerUserId } from './lib/identity';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'refreshSession', userId: callerUserId(ctx), sessionToken: ctx.request.headers.authorization } };
}

export { lambdaResponse as response } from './lib/response';
