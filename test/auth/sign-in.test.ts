/**
 * Sign in with MAL through GraphQL against the MAL sandbox: start → consent → complete, authenticated
 * calls with the session token, access-token expiry survived by refresh, sign-out, and the refusals.
 */
import { describe, expect, it } from 'vitest';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { FAST_MAL_CLIENT, gql, useTestStack } from '../support/stack';
import { documents } from '../../functions/shared/dynamo';
import { tableName } from '../../functions/shared/config';
import { malSessionForUser } from '../../functions/auth/mal-tokens';
import { COMPLETE_LOGIN, START_LOGIN, approveAs, loginSecret, signIn as signInVia, startLogin as startLoginVia } from '../support/sign-in';

const stack = useTestStack({ env: FAST_MAL_CLIENT });

const START = START_LOGIN;
const COMPLETE = COMPLETE_LOGIN;
const startLogin = () => startLoginVia(stack);
const signIn = (malUser: string) => signInVia(stack, malUser);

describe('Sign in with MAL', () => {
  it('starts with a MAL authorize URL carrying state and a plain PKCE challenge', async () => {
    const login = await startLogin();
    const url = new URL(login.authorizeUrl);
    expect(url.origin + url.pathname).toBe(`${stack.malSandbox!.authBaseUrl}/authorize`);
    expect(url.searchParams.get('state')).toBe(login.state);
    expect(url.searchParams.get('code_challenge_method')).toBe('plain');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
  });

  it('signs in end to end, calls an authenticated query, survives access-token expiry, and is refused after sign-out', async () => {
    const session = await signIn('alice_e2e');
    expect(session.viewer.malUserName).toBe('alice_e2e');
    const auth = { authorization: session.sessionToken };
    const me = await gql(stack, '{ me { userId malUserName } }', {}, auth);
    expect(me.data?.me).toEqual({ userId: session.viewer.userId, malUserName: 'alice_e2e' });

    // MAL access token expires: the user's MAL session refreshes once and keeps working.
    stack.malSandbox!.setFaults({ revokeAccessTokens: 'alice_e2e' });
    const mal = await malSessionForUser(session.viewer.userId);
    const profile = await mal.getMe();
    expect(profile.name).toBe('alice_e2e');

    const refreshed = await gql(stack, '{ me { userId } }', {}, auth);
    expect(refreshed.data?.me.userId).toBe(session.viewer.userId);

    const newSession = await gql(stack, 'mutation { refreshSession { sessionToken viewer { userId } } }', {}, auth);
    expect(newSession.errors).toBeUndefined();
    const fresh = { authorization: newSession.data!.refreshSession.sessionToken };
    // Revocation takes effect once the cached session check expires (at most 60 s; docs/api.md).
    stack.authorizerCache.clear();
    expect((await gql(stack, '{ me { userId } }', {}, auth)).status).toBe(401);
    expect((await gql(stack, '{ me { userId } }', {}, fresh)).data?.me.userId).toBe(session.viewer.userId);

    expect((await gql(stack, 'mutation { signOut }', {}, fresh)).data).toEqual({ signOut: true });
    stack.authorizerCache.clear();
    const after = await gql(stack, '{ me { userId } }', {}, fresh);
    expect(after.status).toBe(401);
    expect(after.errors?.[0].errorType).toBe('UnauthorizedException');
  });

  it('signing in again as the same MAL user reaches the same AnimeLog user', async () => {
    const first = await signIn('bob_again');
    const second = await signIn('bob_again');
    expect(second.viewer.userId).toBe(first.viewer.userId);
  });

  it('refuses a replayed state, a forged state and a code issued for another sign-in (wrong verifier)', async () => {
    const login = await startLogin();
    const { code, state } = await approveAs(login.authorizeUrl, 'carol_replay');
    expect((await gql(stack, COMPLETE, { c: code, s: state, k: login.secret })).errors).toBeUndefined();

    const replayed = await gql(stack, COMPLETE, { c: code, s: state, k: login.secret });
    expect(replayed.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', errorInfo: { reason: 'STATE_INVALID', action: 'START_LOGIN' } });

    const forged = await gql(stack, COMPLETE, { c: code, s: 'forged-state-forged-state-forged-state', k: login.secret });
    expect(forged.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', errorInfo: { reason: 'STATE_INVALID' } });

    // Code from sign-in A presented with the state of sign-in B: MAL checks B's verifier against A's challenge.
    const a = await startLogin();
    const b = await startLogin();
    const approvedA = await approveAs(a.authorizeUrl, 'dave_mixed');
    const mixed = await gql(stack, COMPLETE, { c: approvedA.code, s: b.state, k: b.secret });
    expect(mixed.errors?.[0]).toMatchObject({ errorType: 'Unauthorized', errorInfo: { reason: 'CODE_REFUSED' } });
    expect(mixed.errors?.[0].message).not.toMatch(/verifier|secret|token=/i);
  });

  it('refuses a redirect URI the MAL client does not allow', async () => {
    const result = await gql(stack, START, { r: 'https://evil.example/steal', h: loginSecret().hash });
    expect(result.errors?.[0]).toMatchObject({ errorType: 'ValidationError', errorInfo: { field: 'redirectUri' } });
  });

  it('refuses an expired session and another user\'s token is only ever that user\'s', async () => {
    const erin = await signIn('erin_tokens');
    const frank = await signIn('frank_tokens');
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { hashSessionToken } = await import('../../functions/auth/sessions');
    await documents().send(
      new UpdateCommand({ TableName: tableName('sessions'), Key: { tokenHash: hashSessionToken(erin.sessionToken) }, UpdateExpression: 'SET expiresAtEpoch = :past', ExpressionAttributeValues: { ':past': 1000 } }),
    );
    const expired = await gql(stack, '{ me { userId } }', {}, { authorization: erin.sessionToken });
    expect(expired.status).toBe(401);
    // Frank's token acts as Frank only: his settings, his profile.
    const asFrank = await gql(stack, '{ me { userId malUserName } }', {}, { authorization: frank.sessionToken });
    expect(asFrank.data?.me).toEqual({ userId: frank.viewer.userId, malUserName: 'frank_tokens' });
  });

  it('stores MAL tokens encrypted: the user-tokens and sessions tables hold no plaintext token', async () => {
    const session = await signIn('grace_crypto');
    const tokens = await (await import('../../functions/auth/mal-tokens')).loadMalTokens(session.viewer.userId);
    const tokenRows = await documents().send(new ScanCommand({ TableName: tableName('user-tokens') }));
    const sessionRows = await documents().send(new ScanCommand({ TableName: tableName('sessions') }));
    const dump = JSON.stringify([tokenRows.Items, sessionRows.Items]);
    expect(dump).not.toContain(tokens.accessToken);
    expect(dump).not.toContain(tokens.refreshToken);
    expect(dump).not.toContain(session.sessionToken);
    expect(tokenRows.Items!.find((i) => i.userId === session.viewer.userId)!.sealedTokens).toMatch(/^v1\./);
  });
});
