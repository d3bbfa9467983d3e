import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { dynamodbEndpoint, uniquePrefix } from '../support/dynamo';
import { createDynamoDBModule } from '../../local/appsync/dynamodb-module';
import { executeDynamoDBRequest } from '../../local/appsync/dynamodb-datasource';
import { DynamoDBJsonClient } from '../../local/appsync/dynamodb-json-client';
import { createResolverGlobals } from '../../local/appsync/util';

const { util } = createResolverGlobals({ errors: [], subscriptionInvalidations: [], apiCacheEvictions: [] });
const ddb = createDynamoDBModule(util);

describe('@aws-appsync/utils/dynamodb request objects', () => {
  // Documented example: get({ key: { id: ctx.args.id } }) makes a GetItem request.
  it('get', () => {
    expect(ddb.get({ key: { id: 'id' } })).toEqual({ operation: 'GetItem', key: { id: { S: 'id' } } });
    expect(ddb.get({ key: { id: 'a', n: 2 }, consistentRead: true, projection: ['title', 'meta.ep'] })).toEqual({
      operation: 'GetItem',
      key: { id: { S: 'a' }, n: { N: 2 } },
      consistentRead: true,
      projection: { expression: '#title, #meta.#ep', expressionNames: { '#title': 'title', '#meta': 'meta', '#ep': 'ep' } },
    });
  });

  it('put with a condition uses the filter renderer', () => {
    expect(ddb.put({ key: { id: '1' }, item: { title: 'x', tags: ddb.toStringSet(['a']) }, condition: { id: { attributeExists: false } } })).toEqual({
      operation: 'PutItem',
      key: { id: { S: '1' } },
      attributeValues: { title: { S: 'x' }, tags: { SS: ['a'] } },
      condition: { expression: '(attribute_not_exists(#id))', expressionNames: { '#id': 'id' } },
    });
  });

  it('remove', () => {
    expect(ddb.remove({ key: { id: '1' } })).toEqual({ operation: 'DeleteItem', key: { id: { S: '1' } } });
  });

  it('update with every operation', () => {
    const req = ddb.update({
      key: { id: '1' },
      update: {
        title: 'New',
        count: ddb.operations.increment(2),
        left: ddb.operations.decrement(),
        old: ddb.operations.remove(),
        tags: ddb.operations.add(['x']),
        log: ddb.operations.append(['e']),
        first: ddb.operations.prepend(['p']),
        slots: [ddb.operations.updateListItem('a', 0), ddb.operations.updateListItem('b', 2)],
        meta: { ep: ddb.operations.replace(3) },
      },
    });
    expect(req.operation).toBe('UpdateItem');
    expect(req.key).toEqual({ id: { S: '1' } });
    expect(req.update.expression).toBe(
      'SET #title = :title, #log = list_append(if_not_exists(#log, :log_empty), :log), ' +
        '#first = list_append(:first, if_not_exists(#first, :first_empty)), #slots[0] = :slots_0, #slots[2] = :slots_2, ' +
        '#meta.#ep = :meta_ep REMOVE #old ADD #count :count, #left :left, #tags :tags',
    );
    expect(req.update.expressionValues).toMatchObject({ ':count': { N: 2 }, ':left': { N: -1 }, ':tags': { SS: ['x'] }, ':meta_ep': { N: 3 } });
  });

  it('query renders the key condition and the filter', () => {
    expect(ddb.query({ query: { pk: { eq: 'u' }, sk: { beginsWith: 'ep#' } }, filter: { n: { gt: 3 } }, index: 'byUser', limit: 10, scanIndexForward: false })).toEqual({
      operation: 'Query',
      query: {
        expression: '#pk = :pk AND begins_with(#sk, :sk_beginsWith)',
        expressionNames: { '#pk': 'pk', '#sk': 'sk' },
        expressionValues: { ':pk': { S: 'u' }, ':sk_beginsWith': { S: 'ep#' } },
      },
      filter: { expression: '(#n > :n_gt)', expressionNames: { '#n': 'n' }, expressionValues: { ':n_gt': { N: 3 } } },
      index: 'byUser',
      limit: 10,
      scanIndexForward: false,
    });
  });

  it('scan, sync, batch and transact shapes', () => {
    expect(ddb.scan({ limit: 5, nextToken: 't' })).toEqual({ operation: 'Scan', limit: 5, nextToken: 't' });
    expect(ddb.sync({ limit: 5, lastSync: 10 })).toEqual({ operation: 'Sync', limit: 5, lastSync: 10 });
    expect(ddb.batchGet({ tables: { Posts: { keys: [{ id: '1' }], consistentRead: true } } })).toEqual({
      operation: 'BatchGetItem',
      tables: { Posts: { keys: [{ id: { S: '1' } }], consistentRead: true } },
    });
    expect(ddb.batchPut({ tables: { Posts: [{ id: '1', n: 1 }] } })).toEqual({ operation: 'BatchPutItem', tables: { Posts: [{ id: { S: '1' }, n: { N: 1 } }] } });
    expect(ddb.batchDelete({ tables: { Posts: [{ id: '1' }] } })).toEqual({ operation: 'BatchDeleteItem', tables: { Posts: [{ id: { S: '1' } }] } });
    expect(ddb.transactGet({ items: [{ table: 'Posts', key: { id: '1' } }] })).toEqual({
      operation: 'TransactGetItems',
      transactItems: [{ table: 'Posts', key: { id: { S: '1' } } }],
    });
    expect(ddb.transactWrite({
      items: [
        { putItem: { table: 'Posts', key: { id: '1' }, item: { v: 1 }, condition: { id: { attributeExists: false } } } },
        { deleteItem: { table: 'Posts', key: { id: '2' } } },
        { conditionCheck: { table: 'Posts', key: { id: '3' }, condition: { v: { eq: 1 } } } },
      ],
    })).toEqual({
      operation: 'TransactWriteItems',
      transactItems: [
        { table: 'Posts', operation: 'PutItem', key: { id: { S: '1' } }, attributeValues: { v: { N: 1 } }, condition: { expression: '(attribute_not_exists(#id))', expressionNames: { '#id': 'id' } } },
        { table: 'Posts', operation: 'DeleteItem', key: { id: { S: '2' } } },
        { table: 'Posts', operation: 'ConditionCheck', key: { id: { S: '3' } }, condition: { expression: '(#v = :v_eq)', expressionNames: { '#v': 'v' }, expressionValues: { ':v_eq': { N: 1 } } } },
      ],
    });
  });

  it('rejects unrenderable input', () => {
    expect(() => ddb.update({ key: { id: '1' }, update: {} })).toThrow(/update needs/);
    expect(() => ddb.query({ query: { pk: { ne: 'x' } } })).toThrow(/Unsupported key condition/);
  });
});

describe('module requests run on DynamoDB Local', () => {
  const client = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  const TABLE = `${uniquePrefix('mod')}-t`;
  const source = new DynamoDBJsonClient(dynamodbEndpoint());
  const run = (req: unknown) => executeDynamoDBRequest(source, TABLE, req);

  beforeAll(async () => {
    await client.send(new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
    }));
  });
  afterAll(async () => {
    await client.send(new DeleteTableCommand({ TableName: TABLE })).catch(() => undefined);
    source.destroy();
  });

  it('put, update with operations, query with filter', async () => {
    const key = { pk: 'u', sk: 'ep#1' };
    expect((await run(ddb.put({ key, item: { count: 1, log: ['a'], slots: ['x', 'y', 'z'], meta: { ep: 1 } }, condition: { pk: { attributeExists: false } } }))).error).toBeUndefined();
    const updated = await run(ddb.update({
      key,
      update: {
        count: ddb.operations.increment(4),
        log: ddb.operations.append(['b']),
        first: ddb.operations.prepend(['p']),
        slots: [ddb.operations.updateListItem('Y', 1)],
        meta: { ep: ddb.operations.replace(2) },
        tags: ddb.operations.add(['t1', 't2']),
        title: 'Frieren',
      },
      condition: { count: { eq: 1 } },
    }));
    expect(updated.error).toBeUndefined();
    expect(updated.result).toEqual({
      pk: 'u', sk: 'ep#1', count: 5, log: ['a', 'b'], first: ['p'], slots: ['x', 'Y', 'z'], meta: { ep: 2 }, tags: ['t1', 't2'], title: 'Frieren',
    });
    const again = await run(ddb.update({ key, update: { count: ddb.operations.increment() }, condition: { count: { eq: 1 } } }));
    expect(again.error?.type).toBe('DynamoDB:ConditionalCheckFailedException');

    await run(ddb.put({ key: { pk: 'u', sk: 'ep#2' }, item: { count: 0 } }));
    const q = await run(ddb.query({ query: { pk: { eq: 'u' }, sk: { beginsWith: 'ep#' } }, filter: { count: { gt: 0 } } }));
    expect((q.result as { items: Array<{ sk: string }> }).items.map((i) => i.sk)).toEqual(['ep#1']);
  });
});
