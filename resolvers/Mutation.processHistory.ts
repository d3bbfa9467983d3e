/**
 * Mutation.processHistory — validates and stores (a part of) the caller's CR history and returns the
 * sync job at once; the job runs on the sync queue.
 * @dataSource HistoryFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationProcessHistoryArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';

export function request(ctx: Context<MutationProcessHistoryArgs>) {
  return { operation: 'Invoke', payload: { userId: callerUserId(ctx), input: ctx.args.input } };
}

export { lambdaResponse as response } from './lib/response';
