/**
 * A token bucket kept in DynamoDB, so all Lambdas working for one MAL client share one budget.
 * Item `{ bucket, tokens, updatedAtMs, version, expiresAt, shares }` in the `rate-limits` table (partition
 * key `bucket`, string). Each take is a read then a conditional write on `version` (optimistic
 * concurrency): DynamoDB expressions cannot compute the refill (min(burst, tokens + elapsed × rate)) themselves.
 *
 * Fairness between users (see rate-limiter.ts) needs to know who else waits, across Lambdas: `shares`
 * maps each recently active share to its decayed usage (`u` as of `t`) and, while calls of it wait, a
 * waiting mark: `n` calls waiting since `s`, valid until `w` (renewed while they wait, so the mark of a
 * Lambda that died lapses within seconds). A token goes to the caller only when no other marked share
 * comes before it (`nextShare`); otherwise the caller polls again shortly, after the one ahead took it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  checkFairnessOptions,
  checkTokenBucketOptions,
  currentRateShare,
  decayedUsage,
  DEFAULT_FAIRNESS,
  DEFAULT_MAL_RATE,
  nextShare,
  sleep,
  type FairnessOptions,
  type RateLimiter,
  type ShareContender,
  type TokenBucketOptions,
} from './rate-limiter';

export interface DynamoDbTokenBucketOptions extends Partial<TokenBucketOptions>, Partial<FairnessOptions> {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Give up (throw RateLimitTimeoutError) after waiting this long for a token. */
  maxWaitMs?: number;
  /** Bucket items expire (DynamoDB TTL on `expiresAt`) this long after their last use. */
  itemTtlSeconds?: number;
  /** A waiting mark lapses this long after the waiter's next planned look (a Lambda that died stops blocking). */
  waitMarkTtlMs?: number;
  now?: () => number;
}

export class RateLimitTimeoutError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RateLimitTimeoutError';
  }
}

export class RateLimitStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RateLimitStoreError';
  }
}

/** A share's entry: usage `u` as of `t` (ms); while `n` of its calls wait: since `s`, mark valid until `w`. */
interface ShareEntry {
  u: number;
  t: number;
  s?: number;
  w?: number;
  n?: number;
}

interface BucketItem {
  bucket: string;
  tokens: number;
  updatedAtMs: number;
  version: number;
  shares?: Record<string, ShareEntry>;
}

/** Usage below this is forgotten (keeps the item to the shares active lately). */
const FORGET_USAGE = 0.01;

export class DynamoDbTokenBucketRateLimiter implements RateLimiter {
  private readonly rate: TokenBucketOptions;
  private readonly fairness: FairnessOptions;
  private readonly waitMarkTtlMs: number;
  private readonly client: DynamoDBDocumentClient;
  private readonly tableName: string;
  private readonly maxWaitMs: number;
  private readonly itemTtlSeconds: number;
  private readonly now: () => number;

  constructor(options: DynamoDbTokenBucketOptions) {
    this.rate = checkTokenBucketOptions({
      ratePerSecond: options.ratePerSecond ?? DEFAULT_MAL_RATE.ratePerSecond,
      burst: options.burst ?? DEFAULT_MAL_RATE.burst,
    });
    this.fairness = checkFairnessOptions({
      usageHalfLifeMs: options.usageHalfLifeMs ?? DEFAULT_FAIRNESS.usageHalfLifeMs,
      maxDeferMs: options.maxDeferMs ?? DEFAULT_FAIRNESS.maxDeferMs,
    });
    this.waitMarkTtlMs = options.waitMarkTtlMs ?? 2000;
    this.client = options.documentClient;
    this.tableName = options.tableName;
    this.maxWaitMs = options.maxWaitMs ?? 120_000;
    this.itemTtlSeconds = options.itemTtlSeconds ?? 24 * 3600;
    this.now = options.now ?? Date.now;
  }

  async acquire(key: string): Promise<void> {
    const share = currentRateShare();
    const started = this.now();
    let conflicts = 0;
    // Whether this call is counted in its share's waiting mark.
    let counted = false;
    for (;;) {
      if (this.now() - started > this.maxWaitMs) {
        throw new RateLimitTimeoutError(`no rate-limit token for ${key} within ${this.maxWaitMs} ms (table ${this.tableName})`);
      }
      const item = await this.read(key);
      const now = this.now();
      if (!item) {
        if (await this.write(key, { tokens: this.rate.burst - 1, updatedAtMs: now, shares: { [share]: { u: 1, t: now } } }, undefined)) return;
        conflicts += 1;
        continue;
      }
      // Another Lambda's clock may be ahead: never let time run backwards in the item.
      const elapsedMs = Math.max(0, now - item.updatedAtMs);
      const available = Math.min(this.rate.burst, item.tokens + (elapsedMs / 1000) * this.rate.ratePerSecond);
      const shares = this.liveShares(item.shares, now);
      const mine = shares[share];
      const myUsage = mine ? decayedUsage(mine.u, mine.t, now, this.fairness.usageHalfLifeMs) : 0;
      const contenders: ShareContender[] = [{ share, usage: myUsage, waitingSinceMs: mine?.s ?? started }];
      for (const [other, entry] of Object.entries(shares)) {
        if (other !== share && entry.w !== undefined && entry.s !== undefined) {
          contenders.push({ share: other, usage: decayedUsage(entry.u, entry.t, now, this.fairness.usageHalfLifeMs), waitingSinceMs: entry.s });
        }
      }
      const myTurn = nextShare(contenders, now, this.fairness.maxDeferMs)!.share === share;
      if (available >= 1 && myTurn) {
        // The share's mark stays while other calls of it still wait.
        const stillWaiting = (mine?.n ?? 0) - (counted && mine?.w !== undefined ? 1 : 0);
        const taken = { ...shares, [share]: stillWaiting > 0 && mine?.w !== undefined ? { ...mine, u: myUsage + 1, t: now, n: stillWaiting } : { u: myUsage + 1, t: now } };
        if (await this.write(key, { tokens: available - 1, updatedAtMs: Math.max(now, item.updatedAtMs), shares: taken }, item.version)) return;
        // Lost the race to another taker: re-read after a short random pause so racers spread out.
        conflicts += 1;
        await sleep(Math.random() * Math.min(100, 5 * 2 ** Math.min(conflicts, 5)));
        continue;
      }
      // Wait for the next token, or (a token is there but another share comes first) for that share to take it.
      const tokenMs = available >= 1 ? 0 : ((1 - available) / this.rate.ratePerSecond) * 1000;
      const waitMs = Math.max(tokenMs, available >= 1 ? Math.min(250, Math.max(20, 250 / this.rate.ratePerSecond)) : 0);
      // Fail now rather than sleep past the deadline.
      if (now - started + waitMs > this.maxWaitMs) {
        throw new RateLimitTimeoutError(`no rate-limit token for ${key} within ${this.maxWaitMs} ms (table ${this.tableName}): next in ${Math.ceil(waitMs)} ms`);
      }
      const join = !counted || mine?.w === undefined;
      if (join || mine!.w! < now + waitMs + this.waitMarkTtlMs / 2) {
        // Mark (or renew) this share as waiting, so takers in other Lambdas let it go first when it should.
        const live = mine?.w !== undefined;
        const entry = {
          u: mine?.u ?? 0,
          t: mine?.t ?? now,
          s: live ? mine!.s! : started,
          w: Math.max(live ? mine!.w! : 0, now + waitMs + this.waitMarkTtlMs),
          n: (live ? (mine!.n ?? 1) : 0) + (join ? 1 : 0),
        };
        if (!(await this.write(key, { tokens: item.tokens, updatedAtMs: item.updatedAtMs, shares: { ...shares, [share]: entry } }, item.version))) {
          conflicts += 1;
          continue;
        }
        counted = true;
      }
      await sleep(Math.ceil(waitMs + Math.random() * Math.min(50, waitMs / 4)));
    }
  }

  /** The shares worth keeping: used lately, or waiting under a live mark (lapsed marks dropped). */
  private liveShares(shares: Record<string, ShareEntry> | undefined, now: number): Record<string, ShareEntry> {
    const out: Record<string, ShareEntry> = {};
    for (const [share, entry] of Object.entries(shares ?? {})) {
      const waiting = entry.w !== undefined && entry.w >= now;
      if (waiting) out[share] = entry;
      else if (decayedUsage(entry.u, entry.t, now, this.fairness.usageHalfLifeMs) >= FORGET_USAGE) out[share] = { u: entry.u, t: entry.t };
    }
    return out;
  }

  private async read(key: string): Promise<BucketItem | undefined> {
    try {
      const result = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { bucket: key }, ConsistentRead: true }));
      const item = result.Item;
      if (!item) return undefined;
      if (typeof item.tokens !== 'number' || typeof item.updatedAtMs !== 'number' || typeof item.version !== 'number') {
        throw new RateLimitStoreError(`rate-limit item ${key} in ${this.tableName} is malformed`);
      }
      return item as BucketItem;
    } catch (error) {
      if (error instanceof RateLimitStoreError) throw error;
      throw new RateLimitStoreError(`cannot read rate-limit bucket ${key} from ${this.tableName}`, { cause: error });
    }
  }

  /** Conditional write: true when it won, false when another taker changed the bucket first. */
  private async write(key: string, state: { tokens: number; updatedAtMs: number; shares: Record<string, ShareEntry> }, expectedVersion: number | undefined): Promise<boolean> {
    const expiresAt = Math.floor(Math.max(state.updatedAtMs, this.now()) / 1000) + this.itemTtlSeconds;
    try {
      if (expectedVersion === undefined) {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { bucket: key, tokens: state.tokens, updatedAtMs: state.updatedAtMs, version: 1, expiresAt, shares: state.shares },
            ConditionExpression: 'attribute_not_exists(#bucket)',
            ExpressionAttributeNames: { '#bucket': 'bucket' },
          }),
        );
      } else {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { bucket: key },
            UpdateExpression: 'SET #tokens = :tokens, #updatedAtMs = :updatedAtMs, #version = :nextVersion, #expiresAt = :expiresAt, #shares = :shares',
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#tokens': 'tokens', '#updatedAtMs': 'updatedAtMs', '#version': 'version', '#expiresAt': 'expiresAt', '#shares': 'shares' },
            ExpressionAttributeValues: {
              ':tokens': state.tokens,
              ':updatedAtMs': state.updatedAtMs,
              ':version': expectedVersion,
              ':nextVersion': expectedVersion + 1,
              ':expiresAt': expiresAt,
              ':shares': state.shares,
            },
          }),
        );
      }
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as { name?: string })?.name === 'ConditionalCheckFailedException') {
        return false;
      }
      throw new RateLimitStoreError(`cannot update rate-limit bucket ${key} in ${this.tableName}`, { cause: error });
    }
  }
}
