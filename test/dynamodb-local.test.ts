import { describe, expect, it } from 'vitest';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { dynamodbEndpoint } from './support/dynamo';

describe('DynamoDB Local', () => {
  it('answers the AWS SDK on the shared endpoint', async () => {
    const client = new DynamoDBClient({
      endpoint: dynamodbEndpoint(),
      region: 'local',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const out = await client.send(new ListTablesCommand({}));
    expect(Array.isArray(out.TableNames)).toBe(true);
  });
});
