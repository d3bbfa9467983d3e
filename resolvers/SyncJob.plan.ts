/**
 * SyncJob.plan — a dry run's planned changes (null for other jobs). The plan is stored compressed, so the
 * sync-control function reads it; the job is looked up under the caller, never under the source's owner.
 * @dataSource SyncControlFunction
 */
import { runtime, type Context } from '@aws-appsync/utils';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context) {
  const job = ctx.source as { jobId: string; dryRun?: boolean };
  if (!job.dryRun) runtime.earlyReturn(null);
  return { operation: 'Invoke', payload: { field: 'jobPlan', userId: callerUserId(ctx), args: { jobId: job.jobId } } satisfies LambdaEvent<'jobPlan', { jobId: string }> };
}

export { lambdaResponse as response } from './lib/response';
