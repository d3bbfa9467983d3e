/**
 * Session checks are cached as in AWS: the authorizer's answer for a token is reused for the API's
 * resultsCacheTtl (60 s deployed), so a revoked session keeps working until its cached answer expires
 * (docs/api.md says so), and a session that ends sooner is cached only until it ends.
 */
import { describe, expect, it } from 'vitest';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AUTHORIZER_CACHE_SECONDS } from '#contract/functions';
import { hashSessionToken } from '../../functions/auth/sessions';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { createTestUser, gql, useTestStack } from '../support/stack';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the deployed cache (60 s)', () => {
  const stack = useTestStack();

  it('is 60 s, and a signed-out token keeps working until its cached check expires', async () => {
    expect(AUTHORIZER_CACHE_SECONDS).toBe(60);
    const user = await createTestUser(stack);
    expect((await gql(stack, '{ me { userId } }', {}, user.headers)).data?.me.userId).toBe(user.userId);
    expect((await gql(stack, 'mutation { signOut }', {}, user.headers)).data).toEqual({ signOut: true });
    // Within the TTL the cached answer stands: the revoked token is still accepted.
    const cached = await gql(stack, '{ me { userId } }', {}, user.headers);
    expect(cached.status).toBe(200);
    expect(cached.data?.me.userId).toBe(user.userId);
    // Once the cached answer has expired, the authorizer runs again and refuses it.
    stack.authorizerCache.clear();
    expect((await gql(stack, '{ me { userId } }', {}, user.headers)).status).toBe(401);
  });

  it('a session ending sooner than the TTL is cached only until it ends', async () => {
    const user = await createTestUser(stack);
    // Ends 1 to 2 s from now (sessions end on a whole second).
    const endsAtEpoch = Math.floor(Date.now() / 1000) + 2;
    await documents().send(
      new UpdateCommand({
        TableName: tableName('sessions'),
        Key: { tokenHash: hashSessionToken(user.token) },
        UpdateExpression: 'SET expiresAtEpoch = :soon',
        ExpressionAttributeValues: { ':soon': endsAtEpoch },
      }),
    );
    expect((await gql(stack, '{ me { userId } }', {}, user.headers)).status).toBe(200);
    await sleep(endsAtEpoch * 1000 + 100 - Date.now());
    expect((await gql(stack, '{ me { userId } }', {}, user.headers)).status).toBe(401);
  });
});

describe('a short TTL', () => {
  // Long enough for the three requests before the wait to fall inside it on a loaded machine.
  const TTL_SECONDS = 2;
  const stack = useTestStack({ authorizerCacheTtlSeconds: TTL_SECONDS });

  it('refuses a revoked token once the TTL has passed, without anyone clearing the cache', async () => {
    const user = await createTestUser(stack);
    expect((await gql(stack, '{ me { userId } }', {}, user.headers)).status).toBe(200);
    await gql(stack, 'mutation { signOut }', {}, user.headers);
    expect((await gql(stack, '{ me { userId } }', {}, user.headers)).status).toBe(200);
    await sleep(TTL_SECONDS * 1000 + 200);
    expect((await gql(stack, '{ me { userId } }', {}, user.headers)).status).toBe(401);
  });
});
