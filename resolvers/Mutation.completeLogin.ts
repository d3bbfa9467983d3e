/**
 * Mutation.completeLogin — exchanges MAL's code for tokens and returns an AnimeLog session (API key).
 * @dataSource AuthFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationCompleteLoginArgs } from '../generated/graphql';

export function request(ctx: Context<MutationCompleteLoginArgs>) {
  return { operation: 'Invoke', payload: { field: 'completeLogin', code: ctx.args.code, state: ctx.args.state, loginSecret: ctx.args.loginSecret } };
}

export { lambdaResponse as response } from './lib/response';
