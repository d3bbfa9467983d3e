/**
 * Query.syncHistory — the changes one of the caller's jobs applied, in order (sk JOB#<jobId>#<seq>).
 * @dataSource SyncHistoryTable
 */
import type { Context } from '@aws-appsync/utils';
import { query } from '@aws-appsync/utils/dynamodb';
import type { QuerySyncHistoryArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import { pageLimit } from './lib/paging';
import { jobHistoryPrefix } from '#contract/keys';

export function request(ctx: Context<QuerySyncHistoryArgs>) {
  return query({
    query: { userId: { eq: callerUserId(ctx) }, sk: { beginsWith: jobHistoryPrefix(ctx.args.jobId) } },
    limit: pageLimit(ctx.args.limit, 50),
    nextToken: ctx.args.nextToken ?? undefined,
    consistentRead: true,
  });
}

export { pageResponse as response } from './lib/paging';
