/**
 * Query.seriesHistory — the changes syncs applied for one of the caller's series, newest first (GSI
 * bySeries, keyed `<userId>#<seriesId>`, so only the caller's entries are reachable).
 * @dataSource SyncHistoryTable
 */
import type { Context } from '@aws-appsync/utils';
import { query } from '@aws-appsync/utils/dynamodb';
import type { QuerySeriesHistoryArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import { pageLimit } from './lib/paging';

export function request(ctx: Context<QuerySeriesHistoryArgs>) {
  return query({
    index: 'bySeries',
    query: { userSeries: { eq: `${callerUserId(ctx)}#${ctx.args.seriesId}` } },
    limit: pageLimit(ctx.args.limit, 50),
    nextToken: ctx.args.nextToken ?? undefined,
    scanIndexForward: false,
  });
}

export { pageResponse as response } from './lib/paging';
