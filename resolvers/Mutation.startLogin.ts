/**
 * Mutation.startLogin — MAL's authorize URL with state and PKCE challenge (API key).
 * @dataSource AuthFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationStartLoginArgs } from '../generated/graphql';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationStartLoginArgs>) {
  return { operation: 'Invoke', payload: { field: 'startLogin', userId: null, args: { redirectUri: ctx.args.redirectUri, loginSecretHash: ctx.args.loginSecretHash } } satisfies LambdaEvent<'startLogin', MutationStartLoginArgs> };
}

export { lambdaResponse as response } from './lib/response';
