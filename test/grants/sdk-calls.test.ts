/**
 * Every AWS call in a function's deployed code is covered by its definition's grants, read statically
 * from each function's bundle (test/support/sdk-calls.ts). This covers the calls that only run in a
 * deployed stage and so never reach the local runtime's grant check: the MAL client secret read and
 * the SQS handler's visibility change. That the roles in the template match the grants is
 * test/infra/grants.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, findFunction, type FunctionDefinition } from '#contract/functions';
import { callsInBundledFile, sdkCallsInSource, sdkCallsOfFunction, ungrantedSdkCalls, type FunctionSdkCalls } from '../support/sdk-calls';

const found = new Map<string, FunctionSdkCalls>();
beforeAll(async () => {
  for (const calls of await Promise.all(FUNCTIONS.map((definition) => sdkCallsOfFunction(definition)))) found.set(calls.functionId, calls);
}, 60_000);

const definition = (id: string): FunctionDefinition => findFunction(id)!;
const actionsAt = (id: string, file: string) => found.get(id)!.calls.filter((c) => c.file === file).flatMap((c) => c.actions);

describe('each function\'s AWS SDK calls', () => {
  it.each(FUNCTIONS.map((d) => d.id))('%s: every call is granted', (id) => {
    const calls = found.get(id)!;
    expect(calls.calls.length, `${id}: no AWS call found in ${calls.files.length} bundled files`).toBeGreaterThan(0);
    expect(ungrantedSdkCalls(definition(id), calls).map((p) => p.message)).toEqual([]);
  });

  it('finds the calls that only run in a deployed stage', () => {
    expect(actionsAt('sync-worker', 'functions/handlers/sync-worker.ts')).toContain('sqs:ChangeMessageVisibility');
    for (const d of FUNCTIONS.filter((f) => f.callsMal)) expect(actionsAt(d.id, 'functions/shared/mal.ts'), d.id).toEqual(['secretsmanager:GetSecretValue']);
    expect(actionsAt('sync-worker', 'functions/shared/iam-signer.ts')).toEqual(['appsync:GraphQL']);
  });

  it('leaves out calls esbuild drops from the bundle', () => {
    // The authorizer bundles functions/auth/sessions.ts for verifySession alone; the file's Put and
    // Update (createSession, revokeSession) are not deployed with it.
    const authorizer = found.get('authorizer')!;
    expect(authorizer.files).toContain('functions/auth/sessions.ts');
    expect([...new Set(authorizer.calls.flatMap((c) => c.actions))]).toEqual(['dynamodb:GetItem']);
    expect(found.get('account')!.files).not.toContain('functions/shared/mal.ts');
  });
});

describe('the check fails', () => {
  it('when a definition lacks a grant a call needs', () => {
    const worker = definition('sync-worker');
    const noConsume = ungrantedSdkCalls({ ...worker, consumesSyncQueue: false }, found.get('sync-worker')!);
    expect(noConsume.map((p) => [p.functionId, p.file, p.command, p.missing])).toEqual([
      ['sync-worker', 'functions/handlers/sync-worker.ts', 'ChangeMessageVisibilityCommand', ['sqs:ChangeMessageVisibility']],
    ]);
    expect(noConsume[0].message).toMatch(/^sync-worker: functions\/handlers\/sync-worker\.ts:\d+ ChangeMessageVisibilityCommand \(@aws-sdk\/client-sqs\) needs sqs:ChangeMessageVisibility/);

    const noMal = ungrantedSdkCalls({ ...definition('auth'), callsMal: false }, found.get('auth')!);
    expect(noMal.map((p) => [p.file, p.command, p.missing])).toEqual([['functions/shared/mal.ts', 'GetSecretValueCommand', ['secretsmanager:GetSecretValue']]]);

    const noTables = ungrantedSdkCalls({ ...definition('authorizer'), tables: {} }, found.get('authorizer')!);
    expect(noTables.map((p) => [p.file, p.command, p.missing])).toEqual([['functions/auth/sessions.ts', 'GetCommand', ['dynamodb:GetItem']]]);
  });

  it('on a command it has no IAM actions for, and on SDK uses it cannot read', () => {
    const source = [
      "import { ListQueuesCommand, SQSClient } from '@aws-sdk/client-sqs';",
      "import * as kms from '@aws-sdk/client-kms';",
      "import { DynamoDBDocument } from '@aws-sdk/lib-dynamodb';",
      "import { SignatureV4 } from '@smithy/signature-v4';",
      "export const q = () => new SQSClient({}).send(new ListQueuesCommand({}));",
      "export const s = () => new SignatureV4({ service: 'execute-api' } as never);",
    ].join('\n');
    const scanned = sdkCallsInSource('functions/x.ts', source);
    const problems = ungrantedSdkCalls(definition('sync-worker'), { functionId: 'sync-worker', files: ['functions/x.ts'], ...scanned });
    expect(problems.map((p) => [p.kind, p.command])).toEqual([
      ['unreadable', 'namespace import * as kms (import the names used)'],
      ['unreadable', 'DynamoDBDocument, an export the check does not know (not a command, client or error class)'],
      ['unmapped', 'ListQueuesCommand'],
      ['unmapped', 'SignatureV4(execute-api)'],
    ]);
    expect(problems[2].message).toContain("is not in test/support/sdk-calls.ts's map");
  });

  it('on a command in the bundle that the source does not import from the SDK', () => {
    const source = "import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';\nexport const g = () => new GetCommand({} as never);\nexport const p = () => new PutCommand({} as never);\n";
    const bundled = 'var g = () => new GetCommand2({});\nvar x = () => new import_other.DescribeTableCommand({});\n';
    const { calls, unreadable } = callsInBundledFile('functions/y.ts', source, bundled);
    expect(calls.map((c) => c.command)).toEqual(['GetCommand']);
    expect(unreadable.map((u) => u.what)).toEqual(['new DescribeTableCommand(…) in the bundle, not found as an SDK import in the source']);
  });
});
