/**
 * Fairness of the shared MAL budget between users, for both limiters: a user's small sync is not stalled
 * by another user's backfill that keeps calls queued, two backfills share alike, and no share waits past
 * the defer bound. The end-to-end form (two users syncing through GraphQL) is test/sync/fairness.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodbEndpoint, uniquePrefix } from '../support/dynamo';
import { DynamoDbTokenBucketRateLimiter, TokenBucketRateLimiter, withRateShare, type RateLimiter } from '../../functions/mal';
import { nextShare } from '../../functions/mal/rate-limiter';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A user's small sync: `calls` MAL calls one after the other, each taking `latencyMs`. Resolves to its duration. */
async function smallSync(limiter: RateLimiter, key: string, share: string, calls: number, latencyMs = 5): Promise<number> {
  return withRateShare(share, async () => {
    const started = performance.now();
    for (let i = 0; i < calls; i++) {
      await limiter.acquire(key);
      await sleep(latencyMs);
    }
    return performance.now() - started;
  });
}

/** A backfill that keeps `concurrency` calls queued until stopped; counts its grants. */
function backfill(limiters: RateLimiter[], key: string, share: string, concurrency: number) {
  let stopped = false;
  let grants = 0;
  const loops = Array.from({ length: concurrency }, (_, i) =>
    withRateShare(share, async () => {
      while (!stopped) {
        await limiters[i % limiters.length].acquire(key);
        grants += 1;
        await sleep(5);
      }
    }),
  );
  return {
    get grants() {
      return grants;
    },
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

describe('nextShare', () => {
  it('serves the least used share first, a share deferred past the bound before anyone, ties by arrival', () => {
    const now = 100_000;
    expect(nextShare([{ share: 'heavy', usage: 40, waitingSinceMs: now - 100 }, { share: 'light', usage: 1, waitingSinceMs: now - 10 }], now, 15_000)!.share).toBe('light');
    expect(nextShare([{ share: 'heavy', usage: 40, waitingSinceMs: now - 16_000 }, { share: 'light', usage: 1, waitingSinceMs: now - 10 }], now, 15_000)!.share).toBe('heavy');
    expect(nextShare([{ share: 'b', usage: 2, waitingSinceMs: now - 5 }, { share: 'a', usage: 2, waitingSinceMs: now - 50 }], now, 15_000)!.share).toBe('a');
    expect(nextShare([], now, 15_000)).toBeUndefined();
  });
});

describe('TokenBucketRateLimiter fairness (in process)', () => {
  const rate = { ratePerSecond: 20, burst: 1 };

  it("a user's 8-call sync takes at most 2× its time alone while another user's backfill keeps 8 calls queued", async () => {
    const alone = await smallSync(new TokenBucketRateLimiter(rate), 'mal:c', 'small', 8);
    const limiter = new TokenBucketRateLimiter(rate);
    const heavy = backfill([limiter], 'mal:c', 'heavy', 8);
    await sleep(1000); // the backfill is well under way: 20 grants used
    const loaded = await smallSync(limiter, 'mal:c', 'small', 8);
    const heavyGrants = heavy.grants;
    await heavy.stop();
    expect(heavyGrants).toBeGreaterThanOrEqual(15);
    // Arrival order (first come, first served) would put each call behind 8 of the backfill's: ~9× alone.
    expect(loaded).toBeLessThanOrEqual(2 * alone);
  });

  it('two backfills share the budget alike, and the budget itself is kept', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSecond: 40, burst: 1 });
    const a = backfill([limiter], 'mal:c', 'a', 6);
    const b = backfill([limiter], 'mal:c', 'b', 2);
    await sleep(1500);
    const [ga, gb] = [a.grants, b.grants];
    await Promise.all([a.stop(), b.stop()]);
    expect(ga + gb).toBeLessThanOrEqual(40 * 1.5 + 2);
    // Timers fire late on a busy machine and a burst of 1 keeps no slack: allow for lost tokens.
    expect(ga + gb).toBeGreaterThanOrEqual(20);
    // Arrival order would split 6:2, by the calls each keeps queued.
    expect(Math.abs(ga - gb)).toBeLessThanOrEqual(0.2 * (ga + gb));
  });

  it('a share never waits much past the defer bound, however many lighter shares keep asking', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSecond: 20, burst: 1, maxDeferMs: 400, usageHalfLifeMs: 60_000 });
    // The heavy share has used a lot lately…
    await withRateShare('heavy', async () => {
      for (let i = 0; i < 20; i++) await limiter.acquire('mal:c');
    });
    // …then lighter shares keep the bucket busy.
    const light = backfill([limiter], 'mal:c', 'light', 4);
    await sleep(100);
    const waited = await smallSync(limiter, 'mal:c', 'heavy', 1, 0);
    await light.stop();
    expect(waited).toBeGreaterThanOrEqual(300);
    expect(waited).toBeLessThan(400 + 250);
  });
});

describe('DynamoDbTokenBucketRateLimiter fairness (DynamoDB Local)', () => {
  let raw: DynamoDBClient;
  let documentClient: DynamoDBDocumentClient;
  const tableName = `${uniquePrefix('fair')}-rate-limits`;

  beforeAll(async () => {
    raw = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    documentClient = DynamoDBDocumentClient.from(raw);
    await raw.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [{ AttributeName: 'bucket', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'bucket', KeyType: 'HASH' }],
      }),
    );
  });
  afterAll(async () => {
    await raw.send(new DeleteTableCommand({ TableName: tableName }));
    raw.destroy();
  });

  const rate = { ratePerSecond: 10, burst: 1 };

  it("across Lambdas: a user's 6-call sync takes at most 2× its time alone during another user's backfill", async () => {
    const lambda = () => new DynamoDbTokenBucketRateLimiter({ documentClient, tableName, ...rate });
    const alone = await smallSync(lambda(), 'mal:alone', 'small', 6);
    // The backfill runs in two other "Lambdas" with 4 calls queued; the small sync in a third.
    const heavy = backfill([lambda(), lambda()], 'mal:loaded', 'heavy', 4);
    await sleep(1500);
    const loaded = await smallSync(lambda(), 'mal:loaded', 'small', 6);
    const heavyGrants = heavy.grants;
    await heavy.stop();
    expect(heavyGrants).toBeGreaterThanOrEqual(10);
    expect(loaded).toBeLessThanOrEqual(2 * alone);
    const item = (await documentClient.send(new GetCommand({ TableName: tableName, Key: { bucket: 'mal:loaded' }, ConsistentRead: true }))).Item!;
    // Both shares are remembered with their usage; no waiting mark outlives its waiter for long.
    expect(Object.keys(item.shares).sort()).toEqual(['heavy', 'small']);
    expect(item.shares.heavy.u).toBeGreaterThan(item.shares.small.u);
  });

  it("a crashed Lambda's waiting mark stops holding others back once it lapses", async () => {
    const now = Date.now();
    // A share with no usage marked waiting for another 600 ms, whose Lambda is gone.
    await documentClient.send(
      new PutCommand({
        TableName: tableName,
        Item: { bucket: 'mal:crash', tokens: 1, updatedAtMs: now, version: 1, expiresAt: Math.floor(now / 1000) + 3600, shares: { gone: { u: 0, t: now, s: now, w: now + 600 } } },
      }),
    );
    const limiter = new DynamoDbTokenBucketRateLimiter({ documentClient, tableName, ...rate });
    const waited = await smallSync(limiter, 'mal:crash', 'alive', 1, 0);
    // Held back while the mark lives (the dead share "comes first"), served as soon as it lapses.
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(1500);
    const item = (await documentClient.send(new GetCommand({ TableName: tableName, Key: { bucket: 'mal:crash' }, ConsistentRead: true }))).Item!;
    expect(Object.keys(item.shares)).toEqual(['alive']);
  });
});
