/**
 * Query.syncJobs — the caller's sync jobs, newest first (job ids are time-ordered).
 * @dataSource SyncJobsTable
 */
import type { Context } from '@aws-appsync/utils';
import { query } from '@aws-appsync/utils/dynamodb';
import type { QuerySyncJobsArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import { pageLimit } from './lib/paging';
import { JOB_PREFIX } from '#contract/keys';

export function request(ctx: Context<QuerySyncJobsArgs>) {
  return query({
    query: { userId: { eq: callerUserId(ctx) }, sk: { beginsWith: JOB_PREFIX } },
    scanIndexForward: false,
    limit: pageLimit(ctx.args.limit, 20),
    nextToken: ctx.args.nextToken ?? undefined,
    consistentRead: true,
  });
}

export { pageResponse as response } from './lib/paging';
