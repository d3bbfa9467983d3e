/**
 * Mutation.updateSettings — changes the given settings of the caller; omitted fields stay.
 * @dataSource UsersTable
 */
import { util, type Context } from '@aws-appsync/utils';
import { update, operations } from '@aws-appsync/utils/dynamodb';
import type { MutationUpdateSettingsArgs } from '../generated/graphql';
import { callerUserId } from './lib/identity';
import { SETTINGS_FIELDS, SETTINGS_RANGES, SETTINGS_SK, withDefaults } from '#contract/settings';
import { response as sharedResponse } from './lib/response';
import { apiError } from './lib/errors';

export function request(ctx: Context<MutationUpdateSettingsArgs>) {
  const userId = callerUserId(ctx);
  const input = ctx.args.input as Record<string, unknown>;
  const changes: Record<string, unknown> = {};
  for (const field of SETTINGS_FIELDS) {
    const value = input[field];
    if (value !== undefined && value !== null) {
      const range = SETTINGS_RANGES[field];
      if (range && ((value as number) < range[0] || (value as number) > range[1])) {
        apiError('ValidationError', `${field} must be between ${range[0]} and ${range[1]}`, { field, min: range[0], max: range[1] });
      }
      changes[field] = operations.replace(value);
    }
  }
  if (Object.keys(changes).length === 0) {
    apiError('ValidationError', 'Give at least one setting to change', { fields: SETTINGS_FIELDS });
  }
  changes.updatedAt = operations.replace(util.time.nowISO8601());
  return update({ key: { userId, sk: SETTINGS_SK }, update: changes });
}

export function response(ctx: Context) {
  return withDefaults(sharedResponse(ctx));
}
