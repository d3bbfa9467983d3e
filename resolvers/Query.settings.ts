/**
 * Query.settings — the caller's sync settings, defaults filled in.
 * @dataSource UsersTable
 */
import type { Context } from '@aws-appsync/utils';
import { get } from '@aws-appsync/utils/dynamodb';
import { callerUserId } from './lib/identity';
import { SETTINGS_SK, withDefaults } from '#contract/settings';
import { response as sharedResponse } from './lib/response';

export function request(ctx: Context) {
  return get({ key: { userId: callerUserId(ctx), sk: SETTINGS_SK }, consistentRead: true });
}

export function response(ctx: Context) {
  return withDefaults(sharedResponse(ctx));
}
