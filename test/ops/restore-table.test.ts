/**
 * The restore procedure of docs/operations.md, through its public CLI against the run's DynamoDB Local:
 * seed a table (GSI, TTL, items over several scan pages), restore it into a new table, and check the
 * script's path (scan-and-copy: DynamoDB Local has no point-in-time restore), the counts, the schema and
 * a sample of items; a wrong --expect-count and bad usage fail.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { dynamodbEndpoint, uniquePrefix } from '../support/dynamo';

const ROOT = resolve(import.meta.dirname, '../..');
const TSX = resolve(ROOT, 'node_modules/.bin/tsx');
const ITEMS = 320;

let ddb: DynamoDBClient;
const prefix = uniquePrefix('restore');
const source = `${prefix}-series-data`;
const created: string[] = [source];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(TSX, ['scripts/restore-table.ts', ...args], { cwd: ROOT, timeout: 90_000, env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_PROFILE: '' } }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

const item = (i: number) => ({
  userId: { S: `u-${i % 7}` },
  sk: { S: `SERIES#${String(i).padStart(4, '0')}` },
  malId: { N: String(1000 + i) },
  title: { S: `Series ${i}` },
  // ~5 KB per item: the 1 MB scan page limit makes the copy paginate.
  blob: { S: 'x'.repeat(5000) },
  tags: { SS: ['a', `t${i % 3}`] },
  ...(i % 2 === 0 ? { expiresAtEpoch: { N: String(4_000_000_000 + i) } } : {}),
});

beforeAll(async () => {
  ddb = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ddb.send(
    new CreateTableCommand({
      TableName: source,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'userId', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
        { AttributeName: 'malId', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'userId', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [{ IndexName: 'byMal', KeySchema: [{ AttributeName: 'malId', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } }],
    }),
  );
  await ddb.send(new UpdateTimeToLiveCommand({ TableName: source, TimeToLiveSpecification: { Enabled: true, AttributeName: 'expiresAtEpoch' } }));
  for (let i = 0; i < ITEMS; i += 25) {
    const batch = Array.from({ length: Math.min(25, ITEMS - i) }, (_, j) => ({ PutRequest: { Item: item(i + j) } }));
    await ddb.send(new BatchWriteItemCommand({ RequestItems: { [source]: batch } }));
  }
});

afterAll(async () => {
  for (const table of created) await ddb?.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  ddb?.destroy();
});

describe('scripts/restore-table.ts against DynamoDB Local', () => {
  it('falls back to scan-and-copy, reproduces keys, GSIs and TTL, and verifies the counts', async () => {
    const target = `${prefix}-series-data-restored`;
    created.push(target);
    const run = await cli(['--table', source, '--to', target, '--endpoint', dynamodbEndpoint(), '--expect-count', String(ITEMS)]);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ path: 'scan-copy', source, target, sourceCount: ITEMS, restoredCount: ITEMS, difference: 0, expectedCount: ITEMS, verified: true });
    expect(summary.note).toMatch(/does not implement point-in-time restore/);
    expect(run.stderr).toMatch(/UnknownOperationException/);
    expect(run.stderr).toMatch(/copied \d+ items[\s\S]*copied 320 items/);

    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: target }));
    expect(Table!.KeySchema).toEqual([
      { AttributeName: 'userId', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(Table!.GlobalSecondaryIndexes?.map((g) => ({ name: g.IndexName, keys: g.KeySchema, projection: g.Projection?.ProjectionType }))).toEqual([
      { name: 'byMal', keys: [{ AttributeName: 'malId', KeyType: 'HASH' }], projection: 'ALL' },
    ]);
    const ttl = await ddb.send(new DescribeTimeToLiveCommand({ TableName: target }));
    expect(ttl.TimeToLiveDescription).toMatchObject({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expiresAtEpoch' });

    for (const i of [0, 1, 57, 158, 255, ITEMS - 1]) {
      const key = { userId: item(i).userId, sk: item(i).sk };
      const copy = await ddb.send(new GetItemCommand({ TableName: target, Key: key, ConsistentRead: true }));
      const original = await ddb.send(new GetItemCommand({ TableName: source, Key: key, ConsistentRead: true }));
      expect(copy.Item, `item ${i}`).toEqual(original.Item);
    }
  });

  it('fails a wrong --expect-count, an existing target and bad usage', async () => {
    const target = `${prefix}-series-data-second`;
    created.push(target);
    const wrong = await cli(['--table', source, '--to', target, '--endpoint', dynamodbEndpoint(), '--expect-count', '5']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout.trim())).toMatchObject({ verified: false, restoredCount: ITEMS, expectedCount: 5 });
    const again = await cli(['--table', source, '--to', target, '--endpoint', dynamodbEndpoint()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/failed: ResourceInUseException/);
    expect((await cli(['--table', source])).code).toBe(2);
    expect((await cli(['--table', source, '--to', `${prefix}-x`, '--time', 'yesterday'])).code).toBe(2);
  });
});
