/**
 * Per-user limits, enforced server-side with fixed-window counters in the rate-limits table (one atomic
 * conditional update per check, so concurrent Lambdas agree). Crossing one is a LimitExceeded error
 * whose errorInfo says which limit and when to retry. docs/api.md lists them; env overrides exist for
 * tests and for operators (LIMIT_<NAME>).
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { documents } from '../shared/dynamo';
import { tableName } from '../shared/config';
import { LimitExceededError } from '../shared/errors';
import { userLimitBucket } from '#contract/keys';
import { REQUESTS_PER_MINUTE } from '#contract/user-limits';
import { ENV, env } from '../shared/config';

export interface WindowLimit {
  limit: number;
  windowSeconds: number;
  description: string;
}

/** Windowed limits per user. */
export const WINDOW_LIMITS = {
  // Counted before each root resolver (resolvers/functions/countRequest.ts), from the same definition.
  requestsPerMinute: { limit: REQUESTS_PER_MINUTE.limit, windowSeconds: REQUESTS_PER_MINUTE.windowSeconds, description: REQUESTS_PER_MINUTE.description },
  historyItemsPerDay: { limit: 20_000, windowSeconds: 86_400, description: 'history items received per user per day (UTC)' },
  syncStartsPerHour: { limit: 10, windowSeconds: 3_600, description: 'sync jobs started (processHistory, retrySync) per user per hour' },
  malLookupsPerHour: { limit: 30, windowSeconds: 3_600, description: 'malAnime lookups that MAL has to answer (not cached) per user per hour' },
  // Counted for all users together (key ALL_USERS): MAL's ~1 request/s is shared with every sync, so
  // malAnime may take at most a third of it however many users ask.
  malLookupsPerMinuteAllUsers: { limit: 20, windowSeconds: 60, description: 'malAnime lookups that MAL has to answer, all users together, per minute' },
} as const satisfies Record<string, WindowLimit>;

/** The pseudo user id of limits counted for everyone together. */
export const ALL_USERS = '*';

export type WindowLimitName = keyof typeof WINDOW_LIMITS;

/** Size limits of one call and of concurrency. */
export const SIZE_LIMITS = {
  historyItemsPerPart: 2_000,
  historyBytesPerPart: 4 * 1024 * 1024,
  partsPerHistory: 10,
  concurrentSyncJobs: 1,
  requestBytes: 5 * 1024 * 1024,
} as const;

function envName(name: string): string {
  return `${ENV.LIMIT_PREFIX}${name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/** The limit in force (an operator or a test may lower it with LIMIT_REQUESTS_PER_MINUTE etc.). */
export function windowLimit(name: WindowLimitName): WindowLimit {
  const base = WINDOW_LIMITS[name];
  const override = Number(env(envName(name)));
  return Number.isFinite(override) && override > 0 ? { ...base, limit: override } : base;
}

export interface Consumption {
  allowed: boolean;
  used: number;
  limit: number;
  retryAfterSeconds: number;
}

/** Adds `amount` to the user's counter of the current window if that stays within the limit. */
export async function tryConsume(userId: string, name: WindowLimitName, amount = 1, now = Date.now()): Promise<Consumption> {
  const { limit, windowSeconds } = windowLimit(name);
  const windowStart = Math.floor(now / 1000 / windowSeconds) * windowSeconds;
  const retryAfterSeconds = Math.max(1, windowStart + windowSeconds - Math.floor(now / 1000));
  if (amount > limit) return { allowed: false, used: 0, limit, retryAfterSeconds };
  try {
    const out = await documents().send(
      new UpdateCommand({
        TableName: tableName('rate-limits'),
        Key: { bucket: userLimitBucket(userId, name, windowStart) },
        UpdateExpression: 'ADD #used :amount SET expiresAt = :expires',
        ConditionExpression: 'attribute_not_exists(#used) OR #used <= :room',
        ExpressionAttributeNames: { '#used': 'used' },
        ExpressionAttributeValues: { ':amount': amount, ':room': limit - amount, ':expires': windowStart + windowSeconds * 2 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return { allowed: true, used: Number(out.Attributes?.used ?? amount), limit, retryAfterSeconds };
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return { allowed: false, used: limit, limit, retryAfterSeconds };
    throw error;
  }
}

/** Like tryConsume, but crossing the limit is a LimitExceeded error saying when to retry. */
export async function consume(userId: string, name: WindowLimitName, amount = 1, now = Date.now()): Promise<void> {
  const result = await tryConsume(userId, name, amount, now);
  if (!result.allowed) {
    const { description } = windowLimit(name);
    throw new LimitExceededError(`Limit reached: at most ${result.limit} ${description}; retry in ${result.retryAfterSeconds} s`, result.retryAfterSeconds, {
      limit: name,
      max: result.limit,
    });
  }
}
