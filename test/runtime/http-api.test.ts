import { describe, expect, it } from 'vitest';
import { createTestUser, gql, useTestStack } from '../support/stack';

const stack = useTestStack();

const SETTINGS = /* GraphQL */ `
  query { settings { watchedThreshold autoAcceptMatches updateDroppedAndOnHold updatedAt } }
`;
const UPDATE = /* GraphQL */ `
  mutation Update($input: SettingsInput!) {
    updateSettings(input: $input) { watchedThreshold autoAcceptMatches updatedAt }
  }
`;

describe('GraphQL over HTTP on the local runtime', () => {
  it('returns default settings, then round-trips an update through DynamoDB Local', async () => {
    const user = await createTestUser(stack);
    const before = await gql(stack, SETTINGS, {}, user.headers);
    expect(before.errors).toBeUndefined();
    expect(before.data?.settings).toEqual({ watchedThreshold: 0.85, autoAcceptMatches: true, updateDroppedAndOnHold: false, updatedAt: null });

    const updated = await gql(stack, UPDATE, { input: { watchedThreshold: 0.9, autoAcceptMatches: false } }, user.headers);
    expect(updated.errors).toBeUndefined();
    expect(updated.data?.updateSettings.watchedThreshold).toBe(0.9);

    const after = await gql(stack, SETTINGS, {}, user.headers);
    expect(after.data?.settings).toMatchObject({ watchedThreshold: 0.9, autoAcceptMatches: false, updateDroppedAndOnHold: false });
    expect(after.data?.settings.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });

  it('keeps users apart: one user never sees another user\'s settings', async () => {
    const alice = await createTestUser(stack);
    const bob = await createTestUser(stack);
    await gql(stack, UPDATE, { input: { watchedThreshold: 0.6 } }, alice.headers);
    const bobs = await gql(stack, SETTINGS, {}, bob.headers);
    expect(bobs.data?.settings.watchedThreshold).toBe(0.85);
    const alices = await gql(stack, SETTINGS, {}, alice.headers);
    expect(alices.data?.settings.watchedThreshold).toBe(0.6);
  });

  it('rejects out-of-range settings with a ValidationError naming the field, changing nothing', async () => {
    const user = await createTestUser(stack);
    const result = await gql(stack, UPDATE, { input: { watchedThreshold: 3 } }, user.headers);
    // updateSettings is non-null, so the error nulls the whole data, as in AppSync.
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'watchedThreshold' }, path: ['updateSettings'] });
    const after = await gql(stack, SETTINGS, {}, user.headers);
    expect(after.data?.settings.watchedThreshold).toBe(0.85);
  });

  it('answers 401 UnauthorizedException without a valid API key or session token', async () => {
    const noAuth = await gql(stack, SETTINGS, {}, {});
    expect(noAuth.status).toBe(401);
    expect(noAuth.errors?.[0].errorType).toBe('UnauthorizedException');
    const badKey = await gql(stack, SETTINGS, {}, { 'x-api-key': 'da2-wrong' });
    expect(badKey.status).toBe(401);
    const badToken = await gql(stack, SETTINGS, {}, { authorization: 'als_not-a-real-session' });
    expect(badToken.status).toBe(401);
  });

  it('refuses a field the caller\'s auth mode may not use (API key on a session-only field)', async () => {
    const result = await gql(stack, SETTINGS, {}, { 'x-api-key': stack.apiKey });
    expect(result.status).toBe(200);
    expect(result.data).toBeNull();
    expect(result.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', message: 'Not Authorized to access settings on type Query' });
  });

  it('answers malformed queries, unknown fields and wrong variable types with validation errors and keeps serving', async () => {
    const user = await createTestUser(stack);
    const syntax = await gql(stack, 'query { settings { ', {}, user.headers);
    expect(syntax.errors?.[0].errorType).toBe('ValidationError');
    const unknown = await gql(stack, 'query { settings { noSuchField } }', {}, user.headers);
    expect(unknown.errors?.[0]).toMatchObject({ errorType: 'ValidationError' });
    expect(unknown.errors?.[0].message).toContain('noSuchField');
    const wrongType = await gql(stack, UPDATE, { input: { watchedThreshold: 'high' } }, user.headers);
    expect(wrongType.errors?.[0].errorType).toBe('ValidationError');
    expect(wrongType.data).toBeNull();
    const notJson = await fetch(stack.graphqlUrl, { method: 'POST', headers: { authorization: user.token }, body: '{not json' });
    expect(notJson.status).toBe(400);
    const still = await gql(stack, SETTINGS, {}, user.headers);
    expect(still.data?.settings.watchedThreshold).toBe(0.85);
  });

  it('pages the caller\'s series with nextToken', async () => {
    const user = await createTestUser(stack);
    const first = await gql(stack, 'query { series(limit: 5) { items { seriesId } nextToken } }', {}, user.headers);
    expect(first.errors).toBeUndefined();
    expect(first.data?.series).toEqual({ items: [], nextToken: null });
    const { PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const { documents } = await import('../../functions/shared/dynamo');
    const { tableName } = await import('../../functions/shared/config');
    for (let i = 0; i < 7; i += 1) {
      await documents().send(
        new PutCommand({
          TableName: tableName('series-data'),
          Item: { userId: user.userId, sk: `SERIES#G${i}`, seriesId: `G${i}`, title: `Show ${i}`, seasons: [], updatedAt: new Date().toISOString() },
        }),
      );
    }
    const other = await createTestUser(stack);
    const page1 = await gql(stack, 'query { series(limit: 5) { items { seriesId title } nextToken } }', {}, user.headers);
    expect(page1.data?.series.items).toHaveLength(5);
    expect(page1.data?.series.nextToken).toEqual(expect.any(String));
    const page2 = await gql(stack, 'query($t: String) { series(limit: 5, nextToken: $t) { items { seriesId } nextToken } }', { t: page1.data?.series.nextToken }, user.headers);
    expect(page2.data?.series.items.map((s: { seriesId: string }) => s.seriesId)).toEqual(['G5', 'G6']);
    expect(page2.data?.series.nextToken).toBeNull();
    const others = await gql(stack, 'query { series { items { seriesId } } }', {}, other.headers);
    expect(others.data?.series.items).toEqual([]);
    const bad = await gql(stack, 'query { series(limit: 500) { items { seriesId } } }', {}, user.headers);
    expect(bad.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'limit' } });
  });
});

describe('IAM (SigV4) callers over HTTP', () => {
  const PUBLISH = `mutation($e: SyncProgressInput!) { publishSyncProgress(event: $e) { jobId seq } }`;
  const event = { jobId: 'job-iam', userId: 'u-iam', seq: 1, status: 'RUNNING', phase: 'MATCHING', processed: 0, total: 1 };

  async function signedPost(headersToSign: Record<string, string>, secret = stack.iam.credentials.secretAccessKey) {
    const { SignatureV4 } = await import('@smithy/signature-v4');
    const { Hash } = await import('@smithy/hash-node');
    const { HttpRequest } = await import('@smithy/protocol-http');
    const url = new URL(stack.graphqlUrl);
    const body = JSON.stringify({ query: PUBLISH, variables: { e: event } });
    const signer = new SignatureV4({ service: 'appsync', region: stack.iam.region, credentials: { ...stack.iam.credentials, secretAccessKey: secret }, sha256: Hash.bind(null, 'sha256') });
    const signed = await signer.sign(
      new HttpRequest({ method: 'POST', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers: { host: url.host, ...headersToSign }, body }),
    );
    const { host: _host, ...headers } = signed.headers as Record<string, string>;
    void _host;
    const response = await fetch(stack.graphqlUrl, { method: 'POST', headers, body });
    return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
  }

  it('accepts a request signed with whatever headers the client chose, as stock AWS clients sign', async () => {
    const result = await signedPost({ accept: 'application/json, text/javascript', 'content-encoding': 'amz-1.0', 'content-type': 'application/json; charset=UTF-8' });
    expect(result.status).toBe(200);
    expect(result.body).toEqual({ data: { publishSyncProgress: { jobId: 'job-iam', seq: 1 } } });
  });

  it('refuses a request signed with the wrong secret (401), and IAM-only fields to other callers', async () => {
    const forged = await signedPost({ 'content-type': 'application/json' }, 'not-the-secret');
    expect(forged.status).toBe(401);
    const user = await createTestUser(stack);
    const asUser = await gql(stack, PUBLISH, { e: event }, user.headers);
    expect(asUser.errors?.[0]).toMatchObject({ errorType: 'Unauthorized' });
  });
});
