import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbEndpoint, uniquePrefix } from '../support/dynamo';
import { executeDynamoDBRequest } from '../../local/appsync/dynamodb-datasource';
import { DynamoDBJsonClient } from '../../local/appsync/dynamodb-json-client';
import { createResolverGlobals } from '../../local/appsync/util';

const client = new DynamoDBClient({
  endpoint: dynamodbEndpoint(),
  region: 'local',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});
// The data source's own client (as the local stack wires it); the SDK client only sets tables up.
const source = new DynamoDBJsonClient(dynamodbEndpoint());
const prefix = uniquePrefix('ds');
const TABLE = `${prefix}-entries`;
const OTHER = `${prefix}-other`;
// Logical names in batch/transact requests, as a resolver would write them.
const resolveTable = (logical: string) => ({ Entries: TABLE, Other: OTHER })[logical] ?? logical;
const { util } = createResolverGlobals({ errors: [], subscriptionInvalidations: [], apiCacheEvictions: [] });
const m = util.dynamodb.toMapValues;
const run = (req: unknown) => executeDynamoDBRequest(source, TABLE, req, resolveTable);

beforeAll(async () => {
  for (const name of [TABLE, OTHER]) {
    await client.send(new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'N' },
      ],
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
    }));
  }
});

afterAll(async () => {
  for (const name of [TABLE, OTHER]) await client.send(new DeleteTableCommand({ TableName: name })).catch(() => undefined);
  source.destroy();
});

describe('executeDynamoDBRequest', () => {
  it('puts and gets an item, unmarshalled; a missing item is null', async () => {
    const put = await run({ operation: 'PutItem', key: m({ pk: 'u1', sk: 1 }), attributeValues: m({ title: 'Frieren', tags: ['a', 'b'], meta: { ep: 3 }, gone: null }) });
    expect(put).toEqual({ result: { pk: 'u1', sk: 1, title: 'Frieren', tags: ['a', 'b'], meta: { ep: 3 }, gone: null } });
    const got = await run({ operation: 'GetItem', key: m({ pk: 'u1', sk: 1 }), consistentRead: true });
    expect(got.error).toBeUndefined();
    expect(got.result).toEqual({ pk: 'u1', sk: 1, title: 'Frieren', tags: ['a', 'b'], meta: { ep: 3 }, gone: null });
    expect(await run({ operation: 'GetItem', key: m({ pk: 'nope', sk: 1 }) })).toEqual({ result: null });
  });

  it('projects GetItem attributes', async () => {
    const got = await run({ operation: 'GetItem', key: m({ pk: 'u1', sk: 1 }), projection: { expression: '#t', expressionNames: { '#t': 'title' } } });
    expect(got.result).toEqual({ title: 'Frieren' });
  });

  it('updates with ALL_NEW and reports a failed condition as DynamoDB:ConditionalCheckFailedException', async () => {
    const ok = await run({
      operation: 'UpdateItem',
      key: m({ pk: 'u1', sk: 1 }),
      update: { expression: 'SET #w = if_not_exists(#w, :zero) + :one', expressionNames: { '#w': 'watched' }, expressionValues: m({ ':zero': 0, ':one': 1 }) },
      condition: { expression: 'attribute_exists(pk)' },
    });
    expect(ok.error).toBeUndefined();
    expect(ok.result).toMatchObject({ pk: 'u1', sk: 1, title: 'Frieren', watched: 1 });

    const failed = await run({
      operation: 'UpdateItem',
      key: m({ pk: 'u1', sk: 1 }),
      update: { expression: 'SET #w = :v', expressionNames: { '#w': 'watched' }, expressionValues: m({ ':v': 5 }) },
      condition: { expression: '#w = :expected', expressionNames: { '#w': 'watched' }, expressionValues: m({ ':expected': 99 }) },
    });
    expect(failed.result).toBeUndefined();
    expect(failed.error?.type).toBe('DynamoDB:ConditionalCheckFailedException');
    expect(failed.error?.message).toMatch(/conditional request failed/i);
  });

  it('PutItem condition failure is an error unless the stored item already equals the desired one', async () => {
    const cond = { expression: 'attribute_not_exists(pk)' };
    const key = m({ pk: 'u2', sk: 1 });
    expect((await run({ operation: 'PutItem', key, attributeValues: m({ v: 1 }), condition: cond })).error).toBeUndefined();
    // Same item again: AppSync treats it as success (current value matches the desired result).
    expect(await run({ operation: 'PutItem', key, attributeValues: m({ v: 1 }), condition: cond })).toEqual({ result: { pk: 'u2', sk: 1, v: 1 } });
    const diff = await run({ operation: 'PutItem', key, attributeValues: m({ v: 2 }), condition: cond });
    expect(diff.error?.type).toBe('DynamoDB:ConditionalCheckFailedException');
  });

  it('deletes returning ALL_OLD', async () => {
    await run({ operation: 'PutItem', key: m({ pk: 'del', sk: 1 }), attributeValues: m({ x: 'y' }) });
    expect(await run({ operation: 'DeleteItem', key: m({ pk: 'del', sk: 1 }) })).toEqual({ result: { pk: 'del', sk: 1, x: 'y' } });
    expect(await run({ operation: 'GetItem', key: m({ pk: 'del', sk: 1 }) })).toEqual({ result: null });
  });

  it('queries with limit and pages through an opaque nextToken', async () => {
    for (let sk = 1; sk <= 5; sk += 1) await run({ operation: 'PutItem', key: m({ pk: 'q', sk }), attributeValues: m({ n: sk * 10 }) });
    const query = { expression: '#pk = :pk', expressionNames: { '#pk': 'pk' }, expressionValues: m({ ':pk': 'q' }) };
    const seen: number[] = [];
    let nextToken: string | null = null;
    let pages = 0;
    do {
      const page = await run({ operation: 'Query', query, limit: 2, nextToken, scanIndexForward: false });
      expect(page.error).toBeUndefined();
      const r = page.result as { items: Array<{ sk: number }>; nextToken: string | null; scannedCount: number };
      seen.push(...r.items.map((i) => i.sk));
      expect(r.scannedCount).toBe(r.items.length);
      if (r.nextToken !== null) expect(typeof r.nextToken).toBe('string');
      nextToken = r.nextToken;
      pages += 1;
    } while (nextToken && pages < 10);
    expect(seen).toEqual([5, 4, 3, 2, 1]);
    const filtered = await run({ operation: 'Query', query, filter: { expression: '#n > :min', expressionNames: { '#n': 'n' }, expressionValues: m({ ':min': 30 }) } });
    expect((filtered.result as { items: unknown[] }).items).toEqual([{ pk: 'q', sk: 4, n: 40 }, { pk: 'q', sk: 5, n: 50 }]);
    const bad = await run({ operation: 'Query', query, nextToken: 'garbage' });
    expect(bad.error?.type).toBe('DynamoDB:ValidationException');
  });

  it('batch-gets across logical table names in key order, null for missing keys', async () => {
    await run({ operation: 'BatchPutItem', tables: { Other: [m({ pk: 'b', sk: 1, v: 'one' }), m({ pk: 'b', sk: 2, v: 'two' })] } });
    const out = await run({
      operation: 'BatchGetItem',
      tables: { Other: { keys: [m({ pk: 'b', sk: 2 }), m({ pk: 'b', sk: 9 }), m({ pk: 'b', sk: 1 })], consistentRead: true } },
    });
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({
      data: { Other: [{ pk: 'b', sk: 2, v: 'two' }, null, { pk: 'b', sk: 1, v: 'one' }] },
      unprocessedKeys: { Other: [] },
    });
  });

  it('transact-writes and returns the keys; a failed condition cancels all with reasons', async () => {
    const ok = await run({
      operation: 'TransactWriteItems',
      transactItems: [
        { table: 'Entries', operation: 'PutItem', key: m({ pk: 't', sk: 1 }), attributeValues: m({ v: 1 }), condition: { expression: 'attribute_not_exists(pk)' } },
        { table: 'Other', operation: 'UpdateItem', key: m({ pk: 't', sk: 2 }), update: { expression: 'SET v = :v', expressionValues: m({ ':v': 2 }) } },
      ],
    });
    expect(ok).toEqual({ result: { keys: [{ pk: 't', sk: 1 }, { pk: 't', sk: 2 }], cancellationReasons: null } });

    const cancelled = await run({
      operation: 'TransactWriteItems',
      transactItems: [
        { table: 'Other', operation: 'DeleteItem', key: m({ pk: 't', sk: 2 }) },
        { table: 'Entries', operation: 'PutItem', key: m({ pk: 't', sk: 1 }), attributeValues: m({ v: 9 }), condition: { expression: 'attribute_not_exists(pk)' } },
      ],
    });
    expect(cancelled.error?.type).toBe('DynamoDB:TransactionCanceledException');
    const reasons = (cancelled.result as { cancellationReasons: Array<{ type: string }> }).cancellationReasons;
    expect(reasons.map((r) => r.type)).toEqual(['None', 'ConditionalCheckFailed']);
    // Nothing applied: the delete in the same transaction was rolled back.
    expect((await executeDynamoDBRequest(source, OTHER, { operation: 'GetItem', key: m({ pk: 't', sk: 2 }) })).result).toEqual({ pk: 't', sk: 2, v: 2 });
  });

  it('answers malformed requests with an error instead of throwing', async () => {
    expect((await run({ operation: 'Explode' })).error?.type).toBe('DynamoDB:ValidationException');
    expect((await run({ operation: 'GetItem' })).error?.type).toBe('DynamoDB:ValidationException');
    expect((await run(null)).error?.type).toBe('DynamoDB:ValidationException');
    expect((await run({ operation: 'GetItem', key: { pk: 'not-typed' } })).error?.type).toBe('DynamoDB:ValidationException');
    const missingTable = await executeDynamoDBRequest(source, `${prefix}-absent`, { operation: 'GetItem', key: m({ pk: 'a', sk: 1 }) });
    expect(missingTable.error?.type).toBe('DynamoDB:ResourceNotFoundException');
  });
});
