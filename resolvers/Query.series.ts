/**
 * Query.series — the caller's CR series, a page at a time.
 * @dataSource SeriesDataTable
 */
import type { Context } from '@aws-appsync/utils';
import { query } from '@aws-appsync/utils/dynamodb';
import type { QuerySeriesArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import { pageLimit } from './lib/paging';
import { SERIES_PREFIX } from '#contract/keys';

export function request(ctx: Context<QuerySeriesArgs>) {
  return query({
    query: { userId: { eq: callerUserId(ctx) }, sk: { beginsWith: SERIES_PREFIX } },
    limit: pageLimit(ctx.args.limit, 20),
    nextToken: ctx.args.nextToken ?? undefined,
    consistentRead: true,
  });
}

export { pageResponse as response } from './lib/paging';
