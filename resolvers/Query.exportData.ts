/**
 * Query.exportData — all of the caller's data as one JSON document (no tokens).
 * @dataSource AccountFunction
 */
import type { Context } from '@aws-appsync/utils';
import { callerUserId } from './lib/identity';

export function request(ctx: Context) {
  return { operation: 'Invoke', payload: { field: 'exportData', userId: callerUserId(ctx) } };
}

export { lambdaResponse as response } from './lib/response';
