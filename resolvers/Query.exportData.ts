/**
 * Query.exportData — all of the caller's data as one JSON document (no tokens).
 * @dataSource AccountFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerUserId } from './lib/identity';
import type { LambdaEvent, NoArgs } from '#contract/lambda-events';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'exportData', userId: callerUserId(ctx), args: {} } satisfies LambdaEvent<'exportData', NoArgs> };
}

export { lambdaResponse as response } from './lib/response';
