/**
 * The per-user request counter, first function of every root Query/Mutation resolver (the build wraps
 * them): one conditional increment of the caller's per-minute window in the rate-limits table. Past the
 * limit the request's fields answer LimitExceeded with when to retry. Callers without a session (API key,
 * IAM) are not counted. It runs here and not in the authorizer because AppSync caches the authorizer's
 * answer, so the authorizer does not see every request.
 * @dataSource RateLimitsTable
 */
import { runtime, util, type Context } from '@aws-appsync/utils';
import { REQUESTS_PER_MINUTE } from '#contract/user-limits';
import { userLimitBucket } from '#contract/keys';
import { apiError } from '../lib/errors';

function callerOf(ctx: Context): string | undefined {
  const identity = ctx.identity as { resolverContext?: { userId?: string } } | null;
  return identity && identity.resolverContext ? identity.resolverContext.userId : undefined;
}

function limitOf(ctx: Context): number {
  const override = Number((ctx.env as Record<string, string | undefined>)[REQUESTS_PER_MINUTE.envName]);
  return override > 0 ? override : REQUESTS_PER_MINUTE.limit;
}

function windowStartOf(now: number): number {
  return now - (now % REQUESTS_PER_MINUTE.windowSeconds);
}

export function request(ctx: Context) {
  const userId = callerOf(ctx);
  if (!userId) return runtime.earlyReturn(ctx.prev.result);
  const windowStart = windowStartOf(util.time.nowEpochSeconds());
  return {
    operation: 'UpdateItem',
    key: util.dynamodb.toMapValues({ bucket: userLimitBucket(userId, REQUESTS_PER_MINUTE.name, windowStart) }),
    update: {
      expression: 'ADD #used :one SET expiresAt = :expires',
      expressionNames: { '#used': 'used' },
      expressionValues: util.dynamodb.toMapValues({ ':one': 1, ':expires': windowStart + 2 * REQUESTS_PER_MINUTE.windowSeconds }),
    },
    condition: {
      expression: 'attribute_not_exists(#used) OR #used < :max',
      expressionNames: { '#used': 'used' },
      expressionValues: util.dynamodb.toMapValues({ ':max': limitOf(ctx) }),
    },
  };
}

export function response(ctx: Context) {
  if (ctx.error) {
    if (ctx.error.type !== 'DynamoDB:ConditionalCheckFailedException') apiError('InternalError', 'An internal error occurred.');
    const now = util.time.nowEpochSeconds();
    const retryAfterSeconds = Math.max(1, windowStartOf(now) + REQUESTS_PER_MINUTE.windowSeconds - now);
    const max = limitOf(ctx);
    apiError('LimitExceeded', `Limit reached: at most ${max} ${REQUESTS_PER_MINUTE.description}; retry in ${retryAfterSeconds} s`, {
      limit: REQUESTS_PER_MINUTE.name,
      max,
      retryAfterSeconds,
    });
  }
  return ctx.prev.result;
}
