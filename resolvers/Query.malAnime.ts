/**
 * Query.malAnime — public MAL info about one anime (session token: MAL's request budget is not public).
 * @dataSource MalFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { QueryMalAnimeArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<QueryMalAnimeArgs>) {
  return { operation: 'Invoke', payload: { field: 'malAnime', userId: callerUserId(ctx), args: { malId: ctx.args.malId } } satisfies LambdaEvent<'malAnime', QueryMalAnimeArgs> };
}

export { lambdaResponse as response } from './lib/response';
