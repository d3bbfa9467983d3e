/**
 * Mutation.deleteAccount — removes everything AnimeLog keeps about the caller and signs out.
 * @dataSource AccountFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerUserId, endSubscriptions } from './lib/identity';
import { lambdaResponse } from './lib/response';
import type { LambdaEvent, NoArgs } from '#contract/lambda-events';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'deleteAccount', userId: callerUserId(ctx), args: {} } satisfies LambdaEvent<'deleteAccount', NoArgs> };
}

export function response(ctx: Context) {
  const result = lambdaResponse(ctx);
  // Every subscription of the account ends, whichever session opened it.
  endSubscriptions({ userId: callerUserId(ctx) });
  return result;
}
