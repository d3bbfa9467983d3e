/**
 * Mutation.cancelSync — see the schema; runs in the sync-control function, keyed by the caller.
 * @dataSource SyncControlFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationCancelSyncArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationCancelSyncArgs>) {
  return { operation: 'Invoke', payload: { field: 'cancelSync', userId: callerUserId(ctx), args: { jobId: ctx.args.jobId } } satisfies LambdaEvent<'cancelSync', MutationCancelSyncArgs> };
}

export { lambdaResponse as response } from './lib/response';
