/**
 * A token bucket kept in DynamoDB, so all Lambdas working for one MAL client share one budget.
 * Item `{ bucket, tokens, updatedAtMs, version, expiresAt }` in the `rate-limits` table (partition key
 * `bucket`, string). Each take is a read then a conditional write on `version` (optimistic concurrency):
 * DynamoDB expressions cannot compute the refill (min(burst, tokens + elapsed × rate)) themselves.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { checkTokenBucketOptions, DEFAULT_MAL_RATE, sleep, type RateLimiter, type TokenBucketOptions } from './rate-limiter';

export interface DynamoDbTokenBucketOptions extends Partial<TokenBucketOptions> {
  documentClient: DynamoDBDocumentClient;
  tableName: string;
  /** Give up (throw RateLimitTimeoutError) after waiting this long for a token. */
  maxWaitMs?: number;
  /** Bucket items expire (DynamoDB TTL on `expiresAt`) this long after their last use. */
  itemTtlSeconds?: number;
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

interface BucketItem {
  bucket: string;
  tokens: number;
  updatedAtMs: number;
  version: number;
}

export class DynamoDbTokenBucketRateLimiter implements RateLimiter {
  private readonly rate: TokenBucketOptions;
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
    this.client = options.documentClient;
    this.tableName = options.tableName;
    this.maxWaitMs = options.maxWaitMs ?? 120_000;
    this.itemTtlSeconds = options.itemTtlSeconds ?? 24 * 3600;
    this.now = options.now ?? Date.now;
  }

  async acquire(key: string): Promise<void> {
    const started = this.now();
    let conflicts = 0;
    for (;;) {
      if (this.now() - started > this.maxWaitMs) {
        throw new RateLimitTimeoutError(`no rate-limit token for ${key} within ${this.maxWaitMs} ms (table ${this.tableName})`);
      }
      const item = await this.read(key);
      const now = this.now();
      if (!item) {
        if (await this.write(key, this.rate.burst - 1, now, undefined)) return;
        conflicts += 1;
        continue;
      }
      // Another Lambda's clock may be ahead: never let time run backwards in the item.
      const elapsedMs = Math.max(0, now - item.updatedAtMs);
      const available = Math.min(this.rate.burst, item.tokens + (elapsedMs / 1000) * this.rate.ratePerSecond);
      if (available >= 1) {
        if (await this.write(key, available - 1, Math.max(now, item.updatedAtMs), item.version)) return;
        // Lost the race to another taker: re-read after a short random pause so racers spread out.
        conflicts += 1;
        await sleep(Math.random() * Math.min(100, 5 * 2 ** Math.min(conflicts, 5)));
        continue;
      }
      const waitMs = ((1 - available) / this.rate.ratePerSecond) * 1000;
      // Fail now rather than sleep past the deadline.
      if (now - started + waitMs > this.maxWaitMs) {
        throw new RateLimitTimeoutError(`no rate-limit token for ${key} within ${this.maxWaitMs} ms (table ${this.tableName}): next in ${Math.ceil(waitMs)} ms`);
      }
      await sleep(Math.ceil(waitMs + Math.random() * Math.min(50, waitMs / 4)));
    }
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
  private async write(key: string, tokens: number, updatedAtMs: number, expectedVersion: number | undefined): Promise<boolean> {
    const expiresAt = Math.floor(updatedAtMs / 1000) + this.itemTtlSeconds;
    try {
      if (expectedVersion === undefined) {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { bucket: key, tokens, updatedAtMs, version: 1, expiresAt },
            ConditionExpression: 'attribute_not_exists(#bucket)',
            ExpressionAttributeNames: { '#bucket': 'bucket' },
          }),
        );
      } else {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { bucket: key },
            UpdateExpression: 'SET #tokens = :tokens, #updatedAtMs = :updatedAtMs, #version = :nextVersion, #expiresAt = :expiresAt',
            ConditionExpression: '#version = :version',
            ExpressionAttributeNames: { '#tokens': 'tokens', '#updatedAtMs': 'updatedAtMs', '#version': 'version', '#expiresAt': 'expiresAt' },
            ExpressionAttributeValues: {
              ':tokens': tokens,
              ':updatedAtMs': updatedAtMs,
              ':version': expectedVersion,
              ':nextVersion': expectedVersion + 1,
              ':expiresAt': expiresAt,
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
