/**
 * Mutation.setSeriesRules — sync rules on many of the caller's series or seasons, one result per item.
 * @dataSource SyncControlFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationSetSeriesRulesArgs } from '../generated/graphql';
import type { LambdaEvent } from '#contract/lambda-events';
import { callerUserId } from './lib/identity';

export function request(ctx: Context<MutationSetSeriesRulesArgs>) {
  return {
    operation: 'Invoke',
    payload: { field: 'setSeriesRules', userId: callerUserId(ctx), args: { items: ctx.args.items } } satisfies LambdaEvent<'setSeriesRules', MutationSetSeriesRulesArgs>,
  };
}

export { lambdaResponse as response } from './lib/response';
