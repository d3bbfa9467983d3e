/**
 * An AppSync DynamoDB data source may touch its own table only (CDK grants its role that table), so a
 * batch or transaction through it that names another table fails locally as it would in AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalStack } from '../../local/stack';
import { createDataSourceInvoker } from '../../local/appsync/datasources';
import type { AppSyncContext } from '../../local/appsync/executor';
import { startTestStack } from '../support/stack';

let stack: LocalStack;
let client: DynamoDBClient;
beforeAll(async () => {
  stack = await startTestStack({ console: false });
  client = new DynamoDBClient({ endpoint: stack.dynamodbEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});
afterAll(async () => {
  client?.destroy();
  await stack?.stop();
});

describe('DynamoDB data sources', () => {
  it('serve a batch on their own table and refuse one naming another table with AccessDeniedException', async () => {
    const invoke = createDataSourceInvoker({ dynamodb: client, stage: stack.stage, lambdas: {} });
    const ctx = {} as AppSyncContext;
    const batch = (table: string) => ({ operation: 'BatchGetItem', tables: { [table]: { keys: [{ userId: { S: 'u-none' }, sk: { S: 'PROFILE' } }] } } });
    const own = await invoke('UsersTable', batch('users'), ctx);
    expect(own.error).toBeUndefined();
    const other = await invoke('UsersTable', batch('sync-jobs'), ctx);
    expect(other.error?.type).toBe('DynamoDB:AccessDeniedException');
    expect(other.error?.message).toMatch(/UsersTableServiceRole.*not authorized.*sync-jobs/);
    expect((await invoke('SyncJobsTable', batch('sync-jobs'), ctx)).error).toBeUndefined();
  });
});
