/**
 * Grants enforced by the local runtime: every function's AWS calls are checked against its definition's
 * grants (contract/functions.ts), as IAM checks the role CDK builds from the same definition. Through
 * GraphQL: a session-token request and a history upload work under enforcement; a function doing a call
 * its definition does not grant gets AccessDeniedException (and the API an InternalError).
 */
import { describe, expect, it, vi } from 'vitest';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { FUNCTIONS, type FunctionDefinition } from '#contract/functions';
import { runAsFunction } from '../../local/grants';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { createTestUser, gql, useTestStack } from '../support/stack';
import { PROCESS_HISTORY, day, v2Episode } from '../sync/support';

const history = () =>
  JSON.stringify({
    data: [v2Episode({ seriesId: 'GGRANT1', seriesTitle: 'Grant Test', seasonId: 'GGRANTS1', seasonTitle: 'Grant Test', episode: 1, played: day(3) })],
  });

describe('under the deployed grants', () => {
  const stack = useTestStack();

  it('a session-token request is authorised and served', async () => {
    const user = await createTestUser(stack);
    const me = await gql(stack, '{ me { userId } }', {}, user.headers);
    expect(me.status).toBe(200);
    expect(me.errors).toBeUndefined();
    expect(me.data?.me.userId).toBe(user.userId);
  });

  it('processHistory stores the history and queues its job', async () => {
    const user = await createTestUser(stack);
    const sent = await gql(stack, PROCESS_HISTORY, { input: { history: history(), dryRun: true } }, user.headers);
    expect(sent.errors).toBeUndefined();
    expect(sent.data?.processHistory.jobId).toBeTruthy();
  });

  it('a call outside a grant is refused with DynamoDB\'s AccessDeniedException; the same call outside any function passes', async () => {
    const key = { userId: 'u-grant-probe', sk: 'PROFILE' };
    const denied = await runAsFunction('authorizer', () => documents().send(new PutCommand({ TableName: tableName('users'), Item: key }))).catch((e) => e);
    expect(denied).toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect(denied.message).toMatch(/animelog-t[0-9a-f]+-authorizer is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:.*:table\/animelog-t[0-9a-f]+-users/);
    // Read of a granted table works for the same function.
    await expect(runAsFunction('authorizer', () => documents().send(new GetCommand({ TableName: tableName('sessions'), Key: { tokenHash: 'x' } })))).resolves.toBeDefined();
    // Test fixtures and the local runtime itself are no function: unchecked.
    await expect(documents().send(new PutCommand({ TableName: tableName('users'), Item: key }))).resolves.toBeDefined();
  });
});

describe('a function without the grant it needs', () => {
  // The history function loses its sync-jobs grant.
  const variant: FunctionDefinition[] = FUNCTIONS.map((f) => {
    if (f.id !== 'history') return f;
    const { 'sync-jobs': _dropped, ...tables } = f.tables;
    return { ...f, tables };
  });
  const stack = useTestStack({ functions: variant });

  it('fails its call with AccessDeniedException, reported by the API as an InternalError', async () => {
    const logged: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    try {
      const user = await createTestUser(stack);
      const sent = await gql(stack, PROCESS_HISTORY, { input: { history: history(), dryRun: true } }, user.headers);
      expect(sent.errors?.[0]).toMatchObject({ errorType: 'InternalError' });
      expect(logged.join('\n')).toMatch(/AccessDeniedException/);
      expect(logged.join('\n')).toMatch(/history is not authorized to perform: dynamodb:\w+ on resource: .*sync-jobs/);
      // Other functions keep their grants: the user's own request still works.
      expect((await gql(stack, '{ me { userId } }', {}, user.headers)).data?.me.userId).toBe(user.userId);
    } finally {
      spy.mockRestore();
    }
  });
});
