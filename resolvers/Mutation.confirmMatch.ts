/**
 * Mutation.confirmMatch — confirms or overrides the MAL entry of one of the caller's CR seasons.
 * @dataSource SyncControlFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationConfirmMatchArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationConfirmMatchArgs>) {
  return { operation: 'Invoke', payload: { field: 'confirmMatch', userId: callerUserId(ctx), args: { input: ctx.args.input } } satisfies LambdaEvent<'confirmMatch', MutationConfirmMatchArgs> };
}

export { lambdaResponse as response } from './lib/response';
