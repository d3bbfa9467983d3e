/**
 * Mutation.updateSeriesStatus — sets the caller's MAL list status of one anime.
 * @dataSource MalFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationUpdateSeriesStatusArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';

export function request(ctx: Context<MutationUpdateSeriesStatusArgs>) {
  return { operation: 'Invoke', payload: { field: 'updateSeriesStatus', userId: callerUserId(ctx), input: ctx.args.input } };
}

export { lambdaResponse as response } from './lib/response';
