/**
 * Mutation.processHistory — validates and stores (a part of) the caller's CR history and returns the
 * sync job at once; the job runs on the sync queue.
 * @dataSource HistoryFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationProcessHistoryArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationProcessHistoryArgs>) {
  return { operation: 'Invoke', payload: { field: 'processHistory', userId: callerUserId(ctx), args: { input: ctx.args.input } } satisfies LambdaEvent<'processHistory', MutationProcessHistoryArgs> };
}

export { lambdaResponse as response } from './lib/response';
