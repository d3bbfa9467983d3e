/**
 * Mutation.retrySync — see the schema; runs in the sync-control function, keyed by the caller.
 * @dataSource SyncControlFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationRetrySyncArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationRetrySyncArgs>) {
  return { operation: 'Invoke', payload: { field: 'retrySync', userId: callerUserId(ctx), args: { jobId: ctx.args.jobId } } satisfies LambdaEvent<'retrySync', MutationRetrySyncArgs> };
}

export { lambdaResponse as response } from './lib/response';
