/**
 * An AppSync DynamoDB data source may touch its own table only (CDK grants its role that table), so a
 * batch or transaction through it that names another table fails locally as it would in AWS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDataSourceInvoker } from '../../local/appsync/datasources';
import { DynamoDBJsonClient } from '../../local/appsync/dynamodb-json-client';
import type { AppSyncContext } from '../../local/appsync/executor';
import { useTestStack } from '../support/stack';

const stack = useTestStack({ console: false });
let client: DynamoDBJsonClient;
beforeAll(() => {
  client = new DynamoDBJsonClient(stack.dynamodbEndpoint);
});
afterAll(() => {
  client?.destroy();
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
