/**
 * Query.me — the signed-in user's profile.
 * @dataSource UsersTable
 */
import type { Context } from '@aws-appsync/utils';
import { get } from '@aws-appsync/utils/dynamodb';
import { callerUserId } from './lib/identity';
import { response as sharedResponse } from './lib/response';
import { PROFILE_SK } from '#contract/keys';
import { apiError } from './lib/errors';

export function request(ctx: Context) {
  return get({ key: { userId: callerUserId(ctx), sk: PROFILE_SK }, consistentRead: true });
}

export function response(ctx: Context) {
  const profile = sharedResponse(ctx);
  if (!profile) apiError('NotFound', 'No profile for this session; sign in again', { action: 'SIGN_IN' });
  return profile;
}
