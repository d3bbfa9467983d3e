/**
 * Mutation.completeLogin — exchanges MAL's code for tokens and returns an AnimeLog session (API key).
 * @dataSource AuthFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationCompleteLoginArgs } from '../generated/graphql';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationCompleteLoginArgs>) {
  return { operation: 'Invoke', payload: { field: 'completeLogin', userId: null, args: { code: ctx.args.code, state: ctx.args.state, loginSecret: ctx.args.loginSecret } } satisfies LambdaEvent<'completeLogin', MutationCompleteLoginArgs> };
}

export { lambdaResponse as response } from './lib/response';
