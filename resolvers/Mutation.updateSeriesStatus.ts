/**
 * Mutation.updateSeriesStatus — sets the caller's MAL list status of one anime.
 * @dataSource MalFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationUpdateSeriesStatusArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationUpdateSeriesStatusArgs>) {
  return { operation: 'Invoke', payload: { field: 'updateSeriesStatus', userId: callerUserId(ctx), args: { input: ctx.args.input } } satisfies LambdaEvent<'updateSeriesStatus', MutationUpdateSeriesStatusArgs> };
}

export { lambdaResponse as response } from './lib/response';
