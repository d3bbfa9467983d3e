/**
 * Query.malAnime — public MAL info about one anime (session token or API key).
 * @dataSource MalFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { QueryMalAnimeArgs } from '../generated/graphql';

export function request(ctx: Context<QueryMalAnimeArgs>) {
  return { operation: 'Invoke', payload: { field: 'malAnime', malId: ctx.args.malId } };
}

export { lambdaResponse as response } from './lib/response';
