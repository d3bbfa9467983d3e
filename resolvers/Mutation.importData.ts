/**
 * Mutation.importData — restores an exportData document into the caller's account.
 * @dataSource AccountFunction
 */
import type { Context } from '@aws-appsync/utils';
import type { MutationImportDataArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import type { LambdaEvent } from '#contract/lambda-events';

export function request(ctx: Context<MutationImportDataArgs>) {
  return { operation: 'Invoke', payload: { field: 'importData', userId: callerUserId(ctx), args: { data: ctx.args.data } } satisfies LambdaEvent<'importData', MutationImportDataArgs> };
}

export { lambdaResponse as response } from './lib/response';
