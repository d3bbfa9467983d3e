/**
 * Mutation.revertSync — see the schema; runs in the sync-control function, keyed by the caller.
 * @dataSource SyncControlFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationRevertSyncArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationRevertSyncArgs>) {
  return { operation: 'Invoke', payload: { field: 'revertSync', userId: callerUserId(ctx), args: { jobId: ctx.args.jobId, dryRun: ctx.args.dryRun ?? false } } satisfies LambdaEvent<'revertSync', MutationRevertSyncArgs> };
}

export { lambdaResponse as response } from './lib/response';
