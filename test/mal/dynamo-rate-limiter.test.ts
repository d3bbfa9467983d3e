import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { dynamodbEndpoint, uniquePrefix } from '../support/dynamo';
import { DynamoDbTokenBucketRateLimiter, MalClient, TokenBucketRateLimiter } from '../../functions/mal';
import { startMalSandbox } from '../../local/mal-sandbox';

let raw: DynamoDBClient;
let documentClient: DynamoDBDocumentClient;
const tableName = `${uniquePrefix('mal')}-rate-limits`;

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

/** Times (ms since start) at which each acquire resolved. */
async function grantTimes(acquirers: Array<() => Promise<void>>): Promise<number[]> {
  const started = performance.now();
  const times = await Promise.all(acquirers.map(async (acquire) => {
    await acquire();
    return performance.now() - started;
  }));
  return times.sort((a, b) => a - b);
}

describe('DynamoDbTokenBucketRateLimiter (DynamoDB Local)', () => {
  it('shares one budget between limiters standing for different Lambdas', async () => {
    const rate = { ratePerSecond: 10, burst: 2 };
    // Three "Lambdas", each with its own limiter object and document client view of the same table.
    const lambdas = [0, 1, 2].map(() => new DynamoDbTokenBucketRateLimiter({ documentClient, tableName, ...rate }));
    const key = 'mal:shared-client';
    const times = await grantTimes(Array.from({ length: 12 }, (_, i) => () => lambdas[i % 3].acquire(key)));
    // 12 grants at 10/s with a burst of 2 need at least (12 - 2) / 10 s = 1 s.
    expect(times.at(-1)!).toBeGreaterThanOrEqual(950);
    // …and no one-second window holds more than rate + burst grants.
    for (const t of times) expect(times.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(rate.ratePerSecond + rate.burst);
    const item = await documentClient.send(new GetCommand({ TableName: tableName, Key: { bucket: key }, ConsistentRead: true }));
    expect(item.Item).toMatchObject({ bucket: key, version: expect.any(Number) });
    expect(item.Item!.version).toBeGreaterThanOrEqual(12); // every grant was a conditional write
    expect(item.Item!.expiresAt).toBeGreaterThan(Date.now() / 1000);
  });

  it('keeps keys apart', async () => {
    const limiter = new DynamoDbTokenBucketRateLimiter({ documentClient, tableName, ratePerSecond: 1, burst: 1 });
    const times = await grantTimes([() => limiter.acquire('mal:a'), () => limiter.acquire('mal:b')]);
    expect(times.at(-1)!).toBeLessThan(500);
  });

  it('gives up with a named error when it cannot get a token in time', async () => {
    const limiter = new DynamoDbTokenBucketRateLimiter({ documentClient, tableName, ratePerSecond: 0.2, burst: 1, maxWaitMs: 300 });
    await limiter.acquire('mal:slow');
    const started = performance.now();
    await expect(limiter.acquire('mal:slow')).rejects.toMatchObject({ name: 'RateLimitTimeoutError' });
    expect(performance.now() - started).toBeLessThan(1000); // not the 5 s the next token needs
  });
});

describe('MalClient with the DynamoDB limiter', () => {
  it('keeps two client instances ("two Lambdas") under the sandbox limit together', async () => {
    const sandbox = await startMalSandbox({ faults: { rateLimitPerSecond: 5 } });
    try {
      const lambdas = [0, 1].map(
        () =>
          new MalClient({
            clientId: sandbox.clientId,
            apiBaseUrl: sandbox.apiBaseUrl,
            authBaseUrl: sandbox.authBaseUrl,
            rateLimiter: new DynamoDbTokenBucketRateLimiter({ documentClient, tableName, ratePerSecond: 4, burst: 1 }),
            retry: { retries: 2, baseDelayMs: 100 },
          }),
      );
      const ids = [1, 5, 6, 1535, 5114, 9253, 16498, 25777, 30276, 31240, 31964, 38000];
      const results = await Promise.all(ids.map((id, i) => lambdas[i % 2].getAnimeDetails(id)));
      expect(results.map((a) => a.id)).toEqual(ids);
      // Each alone would send 6 at once; shared, they never trip the 5/s limit.
      expect(sandbox.requestLog.filter((e) => e.status === 429)).toHaveLength(0);
      expect(sandbox.requestLog.filter((e) => e.path.startsWith('/v2/anime/'))).toHaveLength(ids.length);
    } finally {
      await sandbox.close();
    }
  });
});

describe('TokenBucketRateLimiter (in process)', () => {
  it('lets a burst through, then paces at the rate, in arrival order', async () => {
    const limiter = new TokenBucketRateLimiter({ ratePerSecond: 20, burst: 3 });
    const order: number[] = [];
    const started = performance.now();
    await Promise.all(Array.from({ length: 13 }, (_, i) => limiter.acquire('k').then(() => order.push(i))));
    const elapsed = performance.now() - started;
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // (13 - 3) / 20 = 0.5 s
    expect(elapsed).toBeGreaterThanOrEqual(480);
    expect(elapsed).toBeLessThan(1500);
  });
});
