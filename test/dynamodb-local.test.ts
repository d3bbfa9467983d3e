import { describe, expect, it } from 'vitest';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { dynamodbEndpoint } from './support/dynamo';
import { isLoopback, listeningAddresses } from './support/listening';

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

  // Its own command line has no host option: local/dynamodb-local-loopback.ts sets one.
  it.runIf(process.platform === 'linux')('listens on 127.0.0.1 only', () => {
    const addresses = listeningAddresses(Number(new URL(dynamodbEndpoint()).port));
    expect(addresses.length).toBeGreaterThan(0);
    // Java listens on IPv6 sockets: 127.0.0.1 shows as ::ffff:127.0.0.1.
    expect(addresses.filter((a) => !isLoopback(a))).toEqual([]);
  });
});
