/**
 * Query.matchCandidates — ranked MAL candidates for one of the caller's CR seasons.
 * @dataSource SyncControlFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { QueryMatchCandidatesArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<QueryMatchCandidatesArgs>) {
  return { operation: 'Invoke', payload: { field: 'matchCandidates', userId: callerUserId(ctx), args: { seasonKey: ctx.args.seasonKey } } satisfies LambdaEvent<'matchCandidates', QueryMatchCandidatesArgs> };
}

export { lambdaResponse as response } from './lib/response';
