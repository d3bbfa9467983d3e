/**
 * The local AppSync runtime's DynamoDB client (DynamoDB's JSON protocol, no SDK): answers and errors on
 * DynamoDB Local as the SDK reports them, and retries what the SDK's standard strategy retries.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  TransactWriteItemsCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { dynamodbEndpoint, uniquePrefix } from '../support/dynamo';
import { DynamoDBJsonClient, DynamoDBServiceError } from '../../local/appsync/dynamodb-json-client';
import { executeDynamoDBRequest } from '../../local/appsync/dynamodb-datasource';

const sdk = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
const lean = new DynamoDBJsonClient(dynamodbEndpoint());
const TABLE = `${uniquePrefix('json')}-t`;

beforeAll(async () => {
  await sdk.send(new CreateTableCommand({
    TableName: TABLE,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
  }));
});

afterAll(async () => {
  await sdk.send(new DeleteTableCommand({ TableName: TABLE })).catch(() => undefined);
  sdk.destroy();
  lean.destroy();
});

/** The error a call rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('DynamoDBJsonClient on DynamoDB Local', () => {
  it('writes and reads items in wire form (numbers as strings, binary as base64)', async () => {
    const item = { pk: { S: 'a' }, n: { N: '42' }, b: { B: Buffer.from('hi').toString('base64') }, l: { L: [{ S: 'x' }, { NULL: true }] } };
    expect(await lean.call('PutItem', { TableName: TABLE, Item: item })).toEqual({});
    expect(await lean.call('GetItem', { TableName: TABLE, Key: { pk: { S: 'a' } }, ConsistentRead: true })).toEqual({ Item: item });
    expect(await lean.call('GetItem', { TableName: TABLE, Key: { pk: { S: 'none' } } })).toEqual({});
    // The data source on top: binary comes back as AppSync hands it to resolvers, base64.
    const got = await executeDynamoDBRequest(lean, TABLE, { operation: 'GetItem', key: { pk: { S: 'a' } }, consistentRead: true });
    expect(got).toEqual({ result: { pk: 'a', n: 42, b: 'aGk=', l: ['x', null] } });
  });

  it('rejects a failed condition with the name, message and stored item the SDK reports', async () => {
    const update = {
      TableName: TABLE,
      Key: { pk: { S: 'a' } },
      UpdateExpression: 'SET n = :n',
      ConditionExpression: 'n = :old',
      ExpressionAttributeValues: { ':n': { N: '1' }, ':old': { N: '7' } },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
    const ours = await rejection(lean.call('UpdateItem', update));
    const theirs = await rejection(sdk.send(new UpdateItemCommand(update)));
    expect(theirs).toBeInstanceOf(ConditionalCheckFailedException);
    expect(ours).toBeInstanceOf(DynamoDBServiceError);
    expect(ours.name).toBe('ConditionalCheckFailedException');
    expect(ours.message).toBe(theirs.message);
    expect(ours.$metadata.httpStatusCode).toBe(400);
    expect(ours.Item.n).toEqual({ N: '42' });
    expect(ours.Item.pk).toEqual(theirs.Item.pk);

    // Through the data source: the ctx.error resolvers see.
    const failed = await executeDynamoDBRequest(lean, TABLE, {
      operation: 'UpdateItem',
      key: { pk: { S: 'a' } },
      update: { expression: 'SET n = :n', expressionValues: { ':n': { N: 1 } } },
      condition: { expression: 'n = :old', expressionValues: { ':old': { N: 7 } } },
    });
    expect(failed).toEqual({ error: { type: 'DynamoDB:ConditionalCheckFailedException', message: theirs.message } });
  });

  it('names validation, missing-table and cancelled-transaction errors as the SDK does', async () => {
    const invalid = { TableName: TABLE, Key: { pk: { S: 'a' } }, UpdateExpression: 'SET = nonsense' };
    const ours = await rejection(lean.call('UpdateItem', invalid));
    const theirs = await rejection(sdk.send(new UpdateItemCommand(invalid)));
    expect([ours.name, ours.message]).toEqual([theirs.name, theirs.message]);
    expect(ours.name).toBe('ValidationException');

    const missing = await rejection(lean.call('GetItem', { TableName: `${TABLE}-absent`, Key: { pk: { S: 'a' } } }));
    expect(missing.name).toBe('ResourceNotFoundException');

    const transaction = {
      TransactItems: [
        { ConditionCheck: { TableName: TABLE, Key: { pk: { S: 'a' } }, ConditionExpression: 'attribute_not_exists(pk)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } },
        { Put: { TableName: TABLE, Item: { pk: { S: 'b' } } } },
      ],
    };
    const cancelled = await rejection(lean.call('TransactWriteItems', transaction));
    const sdkCancelled = await rejection(sdk.send(new TransactWriteItemsCommand(transaction)));
    expect([cancelled.name, cancelled.message]).toEqual([sdkCancelled.name, sdkCancelled.message]);
    expect(cancelled.CancellationReasons.map((r: { Code: string }) => r.Code)).toEqual(['ConditionalCheckFailed', 'None']);
    expect(cancelled.CancellationReasons[0].Item.pk).toEqual({ S: 'a' });
  });
});

describe('DynamoDBJsonClient retries', () => {
  let server: Server;
  let endpoint: string;
  const answers: Array<(res: import('node:http').ServerResponse, req: import('node:http').IncomingMessage) => void> = [];
  let calls = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        calls++;
        const answer = answers.shift() ?? ((r) => r.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{"Item":{"pk":{"S":"ok"}}}'));
        answer(res, req);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const address = server.address();
    endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((ok) => server.close(ok));
  });

  const error = (status: number, type: string, message: string) => (res: import('node:http').ServerResponse) =>
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));

  it('retries a 500 and a dropped connection, then answers', async () => {
    const client = new DynamoDBJsonClient(endpoint);
    calls = 0;
    answers.push(error(500, 'InternalServerError', 'try again'), (_res, req) => req.socket.destroy());
    expect(await client.call('GetItem', { TableName: 't', Key: { pk: { S: 'ok' } } })).toEqual({ Item: { pk: { S: 'ok' } } });
    expect(calls).toBe(3);
    client.destroy();
  });

  it('gives up after three attempts, and never retries a client error', async () => {
    const client = new DynamoDBJsonClient(endpoint);
    calls = 0;
    answers.push(...[1, 2, 3].map(() => error(400, 'ThrottlingException', 'Rate exceeded')));
    const throttled = await rejection(client.call('GetItem', { TableName: 't', Key: {} }));
    expect([throttled.name, throttled.message, calls]).toEqual(['ThrottlingException', 'Rate exceeded', 3]);

    calls = 0;
    answers.push(error(400, 'ValidationException', 'bad key'));
    const invalid = await rejection(client.call('GetItem', { TableName: 't', Key: {} }));
    expect([invalid.name, invalid.message, calls]).toEqual(['ValidationException', 'bad key', 1]);
    client.destroy();
  });
});
