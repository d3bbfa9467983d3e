/**
 * Query.syncJob — one of the caller's sync jobs (null when absent or someone else's: keyed by the caller).
 * @dataSource SyncJobsTable
 */
import type { Context } from '@aws-appsync/utils';
import { get } from '@aws-appsync/utils/dynamodb';
import type { QuerySyncJobArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import { response as sharedResponse } from './lib/response';
import { jobSk } from '#contract/keys';

export function request(ctx: Context<QuerySyncJobArgs>) {
  return get({ key: { userId: callerUserId(ctx), sk: jobSk(ctx.args.id) }, consistentRead: true });
}

export function response(ctx: Context) {
  return sharedResponse(ctx);
}
