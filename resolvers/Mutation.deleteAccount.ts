/**
 * Mutation.deleteAccount — removes everything AnimeLog keeps about the caller and signs out.
 * @dataSource AccountFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerUserId } from './lib/identity';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'deleteAccount', userId: callerUserId(ctx) } };
}

export { lambdaResponse as response } from './lib/response';
